package dev.seqspark.nn;

import static dev.seqspark.nn.Matrices.checkedSize;
import static dev.seqspark.nn.Matrices.grow;
import static dev.seqspark.nn.Matrices.swapBatchTime;

import java.util.Arrays;

/**
 * Backward through time of a {@link Recurrent}'s last forward, and the buffers only backward needs (made on
 * the first backward, so scoring never allocates them). Per layer, top down, per direction: the reverse time
 * loop (one cell pass and one multiply {@code dgates·W_hh} for dh_{t-1} per step), then the weight gradients of
 * all steps in one multiply each ({@code dW_hh += Σ_t dghᵀ·h_{t-1}}, {@code dW_ih += Σ_t dgiᵀ·x_t}), the biases
 * as column sums, and dL/d(input) in one multiply.
 */
final class RecurrentBackward {
    private final Recurrent f;            // the forward whose results this differentiates
    private final float[] biasGrad;       // (G·H) column sums of the gate gradients
    private int rowCap;
    private int batchCap;
    private float[] dGi;                  // (T·B, G·H) gate gradients of one layer and direction
    private float[] dGh;                  // the recurrent side's, the same array unless the cell separates them
    private float[] dh;                   // (B, H) dL/dh_t, and dL/dh_{t-1} being formed: ping-pong
    private float[] dhPrev;
    private float[] dc;                   // (B, H) dL/dc_t, LSTM
    private float[] dcHeld;               // dc of rows past their length, held across a cell's backward
    private float[] dTopBf;               // time-major copy of a batch_first dOutput
    private float[] dA;                   // dL/d(layer output) and dL/d(layer input) above layer 0: (T·B, D·H)
    private float[] dB;
    private float[] dInput;               // dL/d(input), time-major, exactly T·B·I
    private float[] dInputBf;

    RecurrentBackward(Recurrent forward) {
        this.f = forward;
        this.biasGrad = new float[forward.gw];
    }

    /** Buffers for the capacity the forward has. */
    private void allocate() {
        if (dGi != null && rowCap >= f.rowCap && batchCap >= f.batchCap) {
            return;
        }
        rowCap = f.rowCap;
        batchCap = f.batchCap;
        int gw = f.gw;
        int hidden = f.hidden;
        dGi = new float[checkedSize((long) rowCap * gw)];
        dGh = f.cell.separateRecurrentGrad() ? new float[rowCap * gw] : dGi;
        dh = new float[batchCap * hidden];
        dhPrev = new float[batchCap * hidden];
        boolean lstm = f.cfg.cell().hasCellState();
        dc = lstm ? new float[batchCap * hidden] : null;
        dcHeld = lstm ? new float[batchCap * hidden] : null;
        dA = new float[checkedSize((long) rowCap * f.cfg.outputSize())];
        dB = new float[rowCap * f.cfg.outputSize()];
    }

    Recurrent.InputGrads run(float[] dOutput, float[] dHn, float[] dCn) {
        allocate();
        RecurrentConfig cfg = f.cfg;
        int rows = f.steps * f.batch;
        int out = cfg.outputSize();
        int bh = f.batch * f.hidden;
        int gw = f.gw;
        float[] dOut;
        if (dOutput == null) {
            dOut = dA;
            Arrays.fill(dOut, 0, rows * out, 0f);
        } else {
            if (dOutput.length != rows * out) {
                throw new IllegalArgumentException("dOutput has " + dOutput.length + " values; expected " + rows * out);
            }
            if (cfg.batchFirst()) {
                dTopBf = grow(dTopBf, rows * out);
                swapBatchTime(dOutput, dTopBf, f.batch, f.steps, out);
                dOut = dTopBf;
            } else {
                dOut = dOutput;
            }
        }
        checkStateGrad(dHn, "dHn");
        checkStateGrad(dCn, "dCn");
        float[] g = f.params.grads;
        float[] w = f.params.values;
        for (int l = f.layers - 1; l >= 0; l--) {
            int in = cfg.layerInputSize(l);
            boolean needInputGrad = !(l == 0 && f.tokenInput);
            float[] dIn;
            if (l > 0) {
                dIn = dOut == dA ? dB : dA;
            } else {
                dInput = needInputGrad && (dInput == null || dInput.length != rows * in) ? new float[rows * in] : dInput;
                dIn = dInput;
            }
            for (int d = 0; d < f.dirs; d++) {
                DirectionBuffers b = f.dir[l][d];
                throughTime(b, d, dOut, dHn, dCn, (l * f.dirs + d) * bh);
                Blas.gemm(true, false, gw, f.hidden, rows, 1f, dGh, 0, gw, b.h, d == 0 ? 0 : bh, f.hidden,
                        1f, g, b.wHh.offset(), f.hidden);
                if (l == 0 && f.tokenInput) {
                    b.tokens.backward(f.tokens, rows, dGi, g, b.wIh.offset());
                } else {
                    Blas.gemm(true, false, gw, in, rows, 1f, dGi, 0, gw, f.layerIn[l], 0, in, 1f, g, b.wIh.offset(), in);
                }
                if (cfg.bias()) {
                    Blas.columnSums(dGi, 0, rows, gw, 1f, g, b.bIh.offset());
                    if (dGh == dGi) {   // the same sums: add them again rather than recompute
                        Blas.columnSums(dGi, 0, rows, gw, 0f, biasGrad, 0);
                        int bo = b.bHh.offset();
                        for (int j = 0; j < gw; j++) {
                            g[bo + j] += biasGrad[j];
                        }
                    } else {
                        Blas.columnSums(dGh, 0, rows, gw, 1f, g, b.bHh.offset());
                    }
                }
                if (needInputGrad) {
                    Blas.gemm(false, false, rows, in, gw, 1f, dGi, 0, gw, w, b.wIh.offset(), in,
                            d == 0 ? 0f : 1f, dIn, 0, in);
                }
            }
            if (l > 0) {
                float[] m = f.dropScale[l - 1];
                if (m != null) {
                    for (int i = 0; i < rows * in; i++) {
                        dIn[i] *= m[i];
                    }
                }
                dOut = dIn;
            }
        }
        float[] dX = null;
        if (!f.tokenInput) {
            dX = dInput;
            if (cfg.batchFirst()) {
                dInputBf = dInputBf == null || dInputBf.length != dInput.length ? new float[dInput.length] : dInputBf;
                swapBatchTime(dInput, dInputBf, f.steps, f.batch, cfg.inputSize());
                dX = dInputBf;
            }
        }
        return new Recurrent.InputGrads(dX, f.dH0, f.dC0);
    }

    private void checkStateGrad(float[] s, String name) {
        if (s != null && s.length != f.hN.length) {
            throw new IllegalArgumentException(name + " has " + s.length + " values; expected " + f.hN.length);
        }
    }

    /** The reverse time loop of one layer and direction: fills dGi/dGh and dh0 (dc0). */
    private void throughTime(DirectionBuffers b, int d, float[] dOut, float[] dHn, float[] dCn, int stateOff) {
        int batch = f.batch;
        int hidden = f.hidden;
        int bh = batch * hidden;
        int outW = f.cfg.outputSize();
        Step step = f.step;
        Recurrent.initialState(dh, 0, dHn, stateOff, bh);
        if (dc != null) {
            Recurrent.initialState(dc, 0, dCn, stateOff, bh);
        }
        boolean direct = f.cell.directStateGradient();
        float[] cur = dh;
        float[] next = dhPrev;
        for (int k = f.steps - 1; k >= 0; k--) {
            int t = d == 0 ? k : f.steps - 1 - k;
            boolean[] act = f.active == null ? null : f.active[t];
            for (int r = 0; r < batch; r++) {
                if (act == null || act[r]) {
                    int o = (t * batch + r) * outW + d * hidden;
                    int row = r * hidden;
                    for (int j = 0; j < hidden; j++) {
                        cur[row + j] += dOut[o + j];
                    }
                }
            }
            f.at(b, d, t);
            step.dh = cur;
            step.dhPrev = next;
            step.dc = dc;
            step.dgi = dGi;
            step.dgh = dGh;
            step.dgOff = t * batch * f.gw;
            if (act != null && dc != null) {
                holdCellGradient(act, true);
            }
            f.cell.backward(step);
            float beta = direct ? 1f : 0f;    // cells that write nothing into dhPrev: the multiply overwrites it
            if (act != null) {
                passThroughInactive(act, cur, next, direct);
                if (dc != null) {
                    holdCellGradient(act, false);
                }
                beta = 1f;
            }
            Blas.gemm(false, false, batch, hidden, f.gw, 1f, dGh, step.dgOff, f.gw, f.params.values, b.wHh.offset(),
                    hidden, beta, next, 0, hidden);
            float[] tmp = cur;
            cur = next;
            next = tmp;
        }
        System.arraycopy(cur, 0, f.dH0, stateOff, bh);
        if (dc != null) {
            System.arraycopy(dc, 0, f.dC0, stateOff, bh);
        }
    }

    /**
     * Rows past their length at this step: no gate gradients, and dL/dh_{t-1} = dL/dh_t (the state was carried);
     * rows that ran get zeros in {@code next} first when the cell wrote nothing there.
     */
    private void passThroughInactive(boolean[] act, float[] cur, float[] next, boolean direct) {
        int hidden = f.hidden;
        int gw = f.gw;
        for (int r = 0; r < f.batch; r++) {
            int row = r * hidden;
            if (!act[r]) {
                System.arraycopy(cur, row, next, row, hidden);
                int g0 = f.step.dgOff + r * gw;
                Arrays.fill(dGi, g0, g0 + gw, 0f);
                if (dGh != dGi) {
                    Arrays.fill(dGh, g0, g0 + gw, 0f);
                }
            } else if (!direct) {
                Arrays.fill(next, row, row + hidden, 0f);
            }
        }
    }

    /** dc of rows past their length passes through the step unchanged: held before the cell's backward, put back after. */
    private void holdCellGradient(boolean[] act, boolean hold) {
        int hidden = f.hidden;
        for (int r = 0; r < f.batch; r++) {
            if (!act[r]) {
                int row = r * hidden;
                if (hold) {
                    System.arraycopy(dc, row, dcHeld, row, hidden);
                } else {
                    System.arraycopy(dcHeld, row, dc, row, hidden);
                }
            }
        }
    }
}
