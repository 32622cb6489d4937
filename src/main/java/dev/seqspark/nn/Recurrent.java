package dev.seqspark.nn;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A stacked recurrent layer (torch.nn.RNN / GRU / LSTM semantics, see {@link RecurrentConfig}) with
 * its forward pass and its backward pass through time. Weights are read from, and gradients accumulated
 * into, the flat {@link Params} arrays; every work buffer is kept and reused between calls, so the hot
 * loop allocates nothing. Not thread-safe: one instance per task.
 *
 * <p>Shapes (T = seq_len, B = batch, I = input_size, H = hidden, D = directions, L = layers):
 * <ul>
 *   <li>input: (T, B, I), or (B, T, I) when batch_first; or token ids (T, B) / (B, T) for one-hot input,
 *       where I is the vocabulary size and a token selects a column of weight_ih_l0 (no dense one-hot).</li>
 *   <li>lengths: null (all T), or one per sequence in [0, T], in any order. Steps past a sequence's length
 *       do not run: its outputs there are 0 and h_n (c_n) hold its last valid step, as with PyTorch's
 *       pack_padded_sequence(enforce_sorted=False).</li>
 *   <li>h0, c0: (L·D, B, H), or null for zeros.</li>
 *   <li>output: (T, B, D·H) or (B, T, D·H); h_n, c_n: (L·D, B, H).</li>
 * </ul>
 * The arrays returned are this layer's buffers: valid until the next call, and not to be modified.
 */
public final class Recurrent {

    /** Results of {@link #forward}: output, h_n and c_n (null unless LSTM). */
    public record Output(float[] output, float[] hN, float[] cN) {}

    /** Results of {@link #backward}: dL/dinput (null for token input), dL/dh0, dL/dc0 (null unless LSTM). */
    public record InputGrads(float[] dInput, float[] dH0, float[] dC0) {}

    private final RecurrentConfig cfg;
    private final Params params;
    private final Cell cell;
    private final int hidden;
    private final int gw;        // gate width G·H
    private final int savedCount; // H-wide quantities per row kept for backward
    private final int dirs;
    private final int layers;
    private final ParamLayout.TensorView[][] wIh;
    private final ParamLayout.TensorView[][] wHh;
    private final ParamLayout.TensorView[][] bIh;
    private final ParamLayout.TensorView[][] bHh;

    // Shape of the last forward.
    private int steps;
    private int batch;
    private boolean oneHot;
    private int[] tokens;
    private boolean[][] active;       // [t][b], null when every sequence runs all T steps
    private boolean haveForward;

    // Work buffers, grown on demand (capacity in T·B rows).
    private int rowCap;
    private int batchCap;
    private float[][] layerIn;        // [l]: input of layer l, time-major (T·B, in_l); [0] may alias the caller's
    private float[][] layerOut;       // [l]: output of layer l before dropout (T·B, D·H)
    private float[][] dropScale;      // [l]: dropout scale per output of layer l (l < L-1), or null
    private float[][][] gi;           // [l][d]: gate pre-activations, then activations in place (T·B, G·H)
    private float[][][][] saved;      // [l][d][k]: k-th quantity backward needs (T·B, H)
    private float[][][] hs;           // [l][d]: states ((T+1)·B, H), slot 0 or T holds h0
    private float[][][] cs;           // [l][d]: cell states, LSTM only
    private float[] rowBias;          // (G·H) b_ih + the folded part of b_hh
    private final float[][][] whhT;   // [l][d]: (H, G·H) weight_hh transposed
    private final OneHotProjection[] tokenProjection; // [d]: token input's gather of weight_ih_l0 columns
    private boolean frozen;           // weights promised constant: whhT (and small gather tables) made once
    private final boolean[][] whhTReady;
    private float[] biasGrad;         // (G·H) column sums of the gate gradients
    private float[] inputBf;          // time-major copy of a batch_first input
    private float[] outputBf;         // batch_first copy of the output
    private float[] hN = new float[0];
    private float[] cN;
    // Backward's buffers, allocated by the first backward (scoring never needs them).
    private int backwardRowCap;
    private int backwardBatchCap;
    private float[] dGi;              // (T·B, G·H) gate gradients of one layer and direction
    private float[] dGh;              // same as dGi except for GRU
    private float[] dh;
    private float[] dhPrev;
    private float[] dc;
    private float[] dTopBf;           // time-major copy of a batch_first dOutput
    private float[] dA;               // dL/d(layer output) and dL/d(layer input) above layer 0, ping-pong (T·B, D·H)
    private float[] dB;
    private float[] dInput;           // dL/d(input), time-major, exactly T·B·I
    private float[] dInputBf;
    private float[] dH0;
    private float[] dC0;
    private float[][] dropped;        // [l]: layer l's output after dropout (the input of layer l+1)

    public Recurrent(RecurrentConfig cfg, Params params, String prefix) {
        this.cfg = cfg;
        this.params = params;
        this.cell = cfg.cell().newCell();
        this.hidden = cfg.hiddenSize();
        this.gw = cfg.cell().gates * hidden;
        this.savedCount = cell.savedCount();
        this.rowBias = new float[gw];
        this.biasGrad = new float[gw];
        this.dirs = cfg.directions();
        this.layers = cfg.numLayers();
        this.whhT = new float[layers][dirs][];
        this.whhTReady = new boolean[layers][dirs];
        this.tokenProjection = new OneHotProjection[dirs];
        wIh = new ParamLayout.TensorView[layers][dirs];
        wHh = new ParamLayout.TensorView[layers][dirs];
        bIh = new ParamLayout.TensorView[layers][dirs];
        bHh = new ParamLayout.TensorView[layers][dirs];
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < dirs; d++) {
                String s = RecurrentConfig.suffix(l, d);
                wIh[l][d] = expect(params.layout, prefix + "weight_ih" + s, gw, cfg.layerInputSize(l));
                wHh[l][d] = expect(params.layout, prefix + "weight_hh" + s, gw, hidden);
                if (cfg.bias()) {
                    bIh[l][d] = expect(params.layout, prefix + "bias_ih" + s, gw);
                    bHh[l][d] = expect(params.layout, prefix + "bias_hh" + s, gw);
                }
            }
        }
    }

    private static ParamLayout.TensorView expect(ParamLayout layout, String name, int... shape) {
        ParamLayout.TensorView t = layout.get(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    public RecurrentConfig config() {
        return cfg;
    }

    /**
     * A promise that the weights will not change any more (scoring, evaluation, generation): the transposed
     * copies every forward makes of them are then made once and kept.
     */
    public void freezeWeights() {
        frozen = true;
        for (boolean[] r : whhTReady) {
            java.util.Arrays.fill(r, false);
        }
        for (OneHotProjection p : tokenProjection) {
            if (p != null) {
                p.invalidate();
            }
        }
    }

    /** Forward over dense input; see the class comment for shapes. {@code dropoutRng} null means evaluation. */
    public Output forward(float[] input, int seqLen, int batchSize, int[] lengths, float[] h0, float[] c0,
                          SplittableRandom dropoutRng) {
        checkShape(seqLen, batchSize, lengths, h0, c0);
        // A longer buffer is fine (an embedding's output reused across batch sizes): only the first
        // seq_len×batch×input_size values are read.
        long expected = (long) seqLen * batchSize * cfg.inputSize();
        if (input == null || input.length < expected) {
            throw new IllegalArgumentException("input has " + (input == null ? 0 : input.length)
                    + " values; expected at least seq_len×batch×input_size = " + seqLen + "×" + batchSize + "×"
                    + cfg.inputSize() + " = " + expected);
        }
        prepare(seqLen, batchSize, lengths);
        oneHot = false;
        if (cfg.batchFirst()) {
            inputBf = grow(inputBf, (int) expected);
            swapBatchTime(input, inputBf, batchSize, seqLen, cfg.inputSize());
            layerIn[0] = inputBf;
        } else {
            layerIn[0] = input;
        }
        return run(h0, c0, dropoutRng);
    }

    /**
     * Forward over token ids as one-hot input (input_size = vocabulary size): the input projection of a
     * token is a column of weight_ih_l0, gathered rather than multiplied.
     */
    public Output forwardTokens(int[] tokenIds, int seqLen, int batchSize, int[] lengths, float[] h0, float[] c0,
                                SplittableRandom dropoutRng) {
        checkShape(seqLen, batchSize, lengths, h0, c0);
        if (tokenIds == null || tokenIds.length < (long) seqLen * batchSize) {   // a longer, reused buffer is fine
            throw new IllegalArgumentException("token input has " + (tokenIds == null ? 0 : tokenIds.length)
                    + " ids; expected seq_len×batch = " + seqLen * batchSize);
        }
        prepare(seqLen, batchSize, lengths);
        oneHot = true;
        if (tokens == null || tokens.length < tokenIds.length) {
            tokens = new int[tokenIds.length];
        }
        int vocab = cfg.inputSize();
        for (int t = 0; t < seqLen; t++) {
            for (int b = 0; b < batchSize; b++) {
                int id = cfg.batchFirst() ? tokenIds[b * seqLen + t] : tokenIds[t * batchSize + b];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + vocab + ")");
                }
                tokens[t * batchSize + b] = id;
            }
        }
        layerIn[0] = null;
        return run(h0, c0, dropoutRng);
    }

    private void checkShape(int seqLen, int batchSize, int[] lengths, float[] h0, float[] c0) {
        if (seqLen <= 0 || batchSize <= 0) {
            throw new IllegalArgumentException("seq_len and batch must be positive, got " + seqLen + " and " + batchSize);
        }
        if (lengths != null) {
            if (lengths.length != batchSize) {
                throw new IllegalArgumentException("lengths has " + lengths.length + " entries for a batch of " + batchSize);
            }
            for (int len : lengths) {
                if (len < 0 || len > seqLen) {
                    throw new IllegalArgumentException("sequence length " + len + " outside [0, seq_len=" + seqLen + "]");
                }
            }
        }
        long stateSize = (long) layers * dirs * batchSize * hidden;
        checkedSize(stateSize);
        if (h0 != null && h0.length != stateSize) {
            throw new IllegalArgumentException("h0 has " + h0.length + " values; expected (layers·directions, batch, hidden) = "
                    + layers * dirs + "×" + batchSize + "×" + hidden);
        }
        if (c0 != null && (!cfg.cell().hasCellState() || c0.length != stateSize)) {
            throw new IllegalArgumentException(cfg.cell().hasCellState()
                    ? "c0 has " + c0.length + " values; expected " + stateSize
                    : "c0 given, but only an LSTM has a cell state");
        }
    }

    private void prepare(int seqLen, int batchSize, int[] lengths) {
        steps = seqLen;
        batch = batchSize;
        int rows = checkedSize((long) seqLen * batchSize);
        if (rows > rowCap || batchSize > batchCap) {
            allocate(Math.max(rows, rowCap), Math.max(batchSize, batchCap));
        }
        active = null;
        if (lengths != null) {
            boolean all = true;
            for (int len : lengths) {
                all &= len == seqLen;
            }
            if (!all) {
                active = new boolean[seqLen][batchSize];
                for (int t = 0; t < seqLen; t++) {
                    for (int b = 0; b < batchSize; b++) {
                        active[t][b] = t < lengths[b];
                    }
                }
            }
        }
        int stateSize = layers * dirs * batchSize * hidden;
        if (hN.length != stateSize) {
            hN = new float[stateSize];
            dH0 = new float[stateSize];
            if (cfg.cell().hasCellState()) {
                cN = new float[stateSize];
                dC0 = new float[stateSize];
            }
        }
    }

    private void allocate(int rows, int batchSize) {
        rowCap = rows;
        batchCap = batchSize;
        layerIn = new float[layers][];
        dropped = new float[layers][];
        layerOut = new float[layers][];
        dropScale = new float[layers][];
        gi = new float[layers][dirs][];
        saved = new float[layers][dirs][][];
        hs = new float[layers][dirs][];
        cs = new float[layers][dirs][];
        int out = cfg.outputSize();
        checkedSize((long) rows * Math.max(gw, out) + (long) batchSize * hidden);
        for (int l = 0; l < layers; l++) {
            layerOut[l] = new float[rows * out];
            for (int d = 0; d < dirs; d++) {
                gi[l][d] = new float[rows * gw];
                saved[l][d] = new float[savedCount][rows * hidden];
                hs[l][d] = new float[(rows + batchSize) * hidden];
                cs[l][d] = cfg.cell().hasCellState() ? new float[(rows + batchSize) * hidden] : null;
            }
        }
    }

    /**
     * Floats a forward keeps per (step, sequence) row: every layer's gates, saved quantities, states and output
     * (and a batch_first copy). For sizing batches by memory.
     */
    public long forwardFloatsPerRow() {
        long perDirection = gw + (long) savedCount * hidden + hidden + (cfg.cell().hasCellState() ? hidden : 0);
        return layers * ((long) dirs * perDirection + cfg.outputSize()) + (cfg.batchFirst() ? cfg.outputSize() : 0);
    }

    /** Backward's buffers for the capacity forward has; never needed when scoring. */
    private void allocateBackward() {
        if (dGi != null && backwardRowCap >= rowCap && backwardBatchCap >= batchCap) {
            return;
        }
        backwardRowCap = rowCap;
        backwardBatchCap = batchCap;
        dGi = new float[checkedSize((long) rowCap * gw)];
        dGh = cell.separateRecurrentGrad() ? new float[rowCap * gw] : dGi;
        dh = new float[batchCap * hidden];
        dhPrev = new float[batchCap * hidden];
        dc = cfg.cell().hasCellState() ? new float[batchCap * hidden] : null;
        dA = new float[checkedSize((long) rowCap * cfg.outputSize())];
        dB = new float[rowCap * cfg.outputSize()];
    }

    /** An array length, refusing what does not fit in one Java array rather than overflowing. */
    static int checkedSize(long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a buffer of " + n + " floats does not fit in one array: "
                    + "use fewer steps or rows per batch");
        }
        return (int) n;
    }

    private static float[] grow(float[] buf, int size) {
        return buf != null && buf.length >= size ? buf : new float[size];
    }

    private Output run(float[] h0, float[] c0, SplittableRandom dropoutRng) {
        int rows = steps * batch;
        int out = cfg.outputSize();
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < dirs; d++) {
                inputProjection(l, d, rows);
                recur(l, d, h0, c0);
            }
            if (l + 1 < layers) {
                if (dropoutRng != null && cfg.dropout() > 0) {
                    dropScale[l] = grow(dropScale[l], rows * out);
                    dropped[l] = grow(dropped[l], rows * out);
                    Dropout.apply(cfg.dropout(), dropoutRng, layerOut[l], dropped[l], dropScale[l], rows * out);
                    layerIn[l + 1] = dropped[l];
                } else {
                    dropScale[l] = null;
                    layerIn[l + 1] = layerOut[l];
                }
            }
        }
        haveForward = true;
        float[] top = layerOut[layers - 1];
        if (cfg.batchFirst()) {
            outputBf = grow(outputBf, rows * out);
            swapBatchTime(top, outputBf, steps, batch, out);
            top = outputBf;
        }
        return new Output(top, hN, cN);
    }

    /**
     * gi = x · W_ihᵀ + b_ih (+ b_hh where the cell adds it straight to the gates) for all T·B rows at once;
     * a gather of weight_ih columns for token input.
     */
    private void inputProjection(int l, int d, int rows) {
        float[] w = params.values;
        float[] g = gi[l][d];
        computeRowBias(l, d);
        int in = cfg.layerInputSize(l);
        if (l == 0 && oneHot) {
            if (tokenProjection[d] == null) {
                tokenProjection[d] = new OneHotProjection(in, gw);
            }
            tokenProjection[d].forward(tokens, rows, w, wIh[l][d].offset(), rowBias, frozen, g);
        } else {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(rowBias, 0, g, r * gw, gw);
            }
            Blas.gemm(false, true, rows, gw, in, 1f, layerIn[l], 0, in, w, wIh[l][d].offset(), in, 1f, g, 0, gw);
        }
    }

    /** b_ih plus the leading rows of b_hh that the cell adds to the gates once (zeros without bias). */
    private void computeRowBias(int l, int d) {
        float[] w = params.values;
        if (cfg.bias()) {
            int bi = bIh[l][d].offset();
            int bh = bHh[l][d].offset();
            int folded = cell.foldedRecurrentBiasRows(hidden);
            for (int j = 0; j < gw; j++) {
                rowBias[j] = w[bi + j] + (j < folded ? w[bh + j] : 0f);
            }
        } else {
            Arrays.fill(rowBias, 0f);
        }
    }

    /** weight_hh transposed, (H, G·H), with one spare row: netlib checks offset + ld·cols ≤ length (GRU's n block). */
    private float[] whhT(int l, int d) {
        if (!frozen || !whhTReady[l][d]) {
            if (whhT[l][d] == null) {
                whhT[l][d] = new float[hidden * gw + gw];
            }
            transpose(params.values, wHh[l][d].offset(), gw, hidden, whhT[l][d]);
            whhTReady[l][d] = true;
        }
        return whhT[l][d];
    }

    /** The time loop of one layer and direction. */
    private void recur(int l, int d, float[] h0, float[] c0) {
        int bh = batch * hidden;
        float[] h = hs[l][d];
        float[] c = cs[l][d];
        int first = d == 0 ? 0 : steps * bh;   // slot of the initial state
        int stateOff = (l * dirs + d) * bh;
        if (h0 != null) {
            System.arraycopy(h0, stateOff, h, first, bh);
        } else {
            Arrays.fill(h, first, first + bh, 0f);
        }
        if (c != null) {
            if (c0 != null) {
                System.arraycopy(c0, stateOff, c, first, bh);
            } else {
                Arrays.fill(c, first, first + bh, 0f);
            }
        }
        float[] w = params.values;
        float[] wT = whhT(l, d);
        float[] out = layerOut[l];
        int outW = cfg.outputSize();
        for (int k = 0; k < steps; k++) {
            int t = d == 0 ? k : steps - 1 - k;
            int hPrev = (d == 0 ? t : t + 1) * bh;
            int hOut = (d == 0 ? t + 1 : t) * bh;
            int aOff = t * batch * gw;
            int sOff = t * batch * hidden;
            cell.addRecurrent(batch, hidden, wT, w, cfg.bias() ? bHh[l][d].offset() : -1, h, hPrev,
                    gi[l][d], aOff, saved[l][d], sOff);
            boolean[] act = active == null ? null : active[t];
            cell.forward(batch, hidden, act, gi[l][d], aOff, saved[l][d], sOff, h, hPrev, hOut, c, hPrev, hOut);
            for (int b = 0; b < batch; b++) {
                int o = (t * batch + b) * outW + d * hidden;
                if (act == null || act[b]) {
                    System.arraycopy(h, hOut + b * hidden, out, o, hidden);
                } else {
                    Arrays.fill(out, o, o + hidden, 0f);
                }
            }
        }
        int last = d == 0 ? steps * bh : 0;
        System.arraycopy(h, last, hN, stateOff, bh);
        if (c != null) {
            System.arraycopy(c, last, cN, stateOff, bh);
        }
    }

    /**
     * Backward through time of the last forward: adds every parameter's gradient into {@code params.grads}
     * and returns the gradients of the inputs. {@code dOutput} is shaped like the output; {@code dHn},
     * {@code dCn} like h_n, c_n; any of them may be null for zero.
     */
    public InputGrads backward(float[] dOutput, float[] dHn, float[] dCn) {
        if (!haveForward) {
            throw new IllegalStateException("backward needs a forward first");
        }
        allocateBackward();
        int rows = steps * batch;
        int out = cfg.outputSize();
        int bh = batch * hidden;
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
                swapBatchTime(dOutput, dTopBf, batch, steps, out);
                dOut = dTopBf;
            } else {
                dOut = dOutput;
            }
        }
        checkStateGrad(dHn, "dHn");
        checkStateGrad(dCn, "dCn");
        float[] g = params.grads;
        float[] w = params.values;
        for (int l = layers - 1; l >= 0; l--) {
            int in = cfg.layerInputSize(l);
            boolean needInputGrad = !(l == 0 && oneHot);
            float[] dIn;
            if (l > 0) {
                dIn = dOut == dA ? dB : dA;
            } else {
                dInput = needInputGrad && (dInput == null || dInput.length != rows * in) ? new float[rows * in] : dInput;
                dIn = dInput;
            }
            for (int d = 0; d < dirs; d++) {
                int stateOff = (l * dirs + d) * bh;
                backwardThroughTime(l, d, dOut, dHn, dCn, stateOff);
                // Weight gradients of all steps in one multiply each: dW_hh += Σ_t dghᵀ · h_{t-1}.
                int prevBlock = d == 0 ? 0 : bh;
                Blas.gemm(true, false, gw, hidden, rows, 1f, dGh, 0, gw, hs[l][d], prevBlock, hidden,
                        1f, g, wHh[l][d].offset(), hidden);
                if (l == 0 && oneHot) {
                    tokenProjection[d].backward(tokens, rows, dGi, g, wIh[l][d].offset());
                } else {
                    Blas.gemm(true, false, gw, in, rows, 1f, dGi, 0, gw, layerIn[l], 0, in,
                            1f, g, wIh[l][d].offset(), in);
                }
                if (cfg.bias()) {
                    Blas.columnSums(dGi, 0, rows, gw, 1f, g, bIh[l][d].offset());
                    if (dGh == dGi) {   // the same sums: add them again rather than recompute
                        Blas.columnSums(dGi, 0, rows, gw, 0f, biasGrad, 0);
                        int bo = bHh[l][d].offset();
                        for (int j = 0; j < gw; j++) {
                            g[bo + j] += biasGrad[j];
                        }
                    } else {
                        Blas.columnSums(dGh, 0, rows, gw, 1f, g, bHh[l][d].offset());
                    }
                }
                if (needInputGrad) {
                    Blas.gemm(false, false, rows, in, gw, 1f, dGi, 0, gw, w, wIh[l][d].offset(), in,
                            d == 0 ? 0f : 1f, dIn, 0, in);
                }
            }
            if (l > 0) {
                float[] m = dropScale[l - 1];
                if (m != null) {
                    for (int i = 0; i < rows * in; i++) {
                        dIn[i] *= m[i];
                    }
                }
                dOut = dIn;
            }
        }
        float[] dX = null;
        if (!oneHot) {
            dX = dInput;
            if (cfg.batchFirst()) {
                dInputBf = dInputBf == null || dInputBf.length != dInput.length ? new float[dInput.length] : dInputBf;
                swapBatchTime(dInput, dInputBf, steps, batch, cfg.inputSize());
                dX = dInputBf;
            }
        }
        return new InputGrads(dX, dH0, dC0);
    }

    private void checkStateGrad(float[] s, String name) {
        if (s != null && s.length != hN.length) {
            throw new IllegalArgumentException(name + " has " + s.length + " values; expected " + hN.length);
        }
    }

    /** The reverse time loop of one layer and direction: fills dGi/dGh and dh0 (dc0). */
    private void backwardThroughTime(int l, int d, float[] dOut, float[] dHn, float[] dCn, int stateOff) {
        int bh = batch * hidden;
        int outW = cfg.outputSize();
        float[] h = hs[l][d];
        float[] c = cs[l][d];
        float[] w = params.values;
        int whh = wHh[l][d].offset();
        if (dHn != null) {
            System.arraycopy(dHn, stateOff, dh, 0, bh);
        } else {
            Arrays.fill(dh, 0, bh, 0f);
        }
        if (dc != null) {
            if (dCn != null) {
                System.arraycopy(dCn, stateOff, dc, 0, bh);
            } else {
                Arrays.fill(dc, 0, bh, 0f);
            }
        }
        float[] cur = dh;
        float[] prev = dhPrev;
        for (int k = steps - 1; k >= 0; k--) {
            int t = d == 0 ? k : steps - 1 - k;
            int hPrev = (d == 0 ? t : t + 1) * bh;
            int hOut = (d == 0 ? t + 1 : t) * bh;
            boolean[] act = active == null ? null : active[t];
            for (int b = 0; b < batch; b++) {
                if (act == null || act[b]) {
                    int o = (t * batch + b) * outW + d * hidden;
                    int r = b * hidden;
                    for (int j = 0; j < hidden; j++) {
                        cur[r + j] += dOut[o + j];
                    }
                }
            }
            int dgOff = t * batch * gw;
            cell.backward(batch, hidden, act, cur, prev, dc, gi[l][d], dgOff, saved[l][d], t * batch * hidden,
                    h, hPrev, hOut, c, hPrev, hOut, dGi, dGh, dgOff);
            Blas.gemm(false, false, batch, hidden, gw, 1f, dGh, dgOff, gw, w, whh, hidden, 1f, prev, 0, hidden);
            float[] tmp = cur;
            cur = prev;
            prev = tmp;
        }
        System.arraycopy(cur, 0, dH0, stateOff, bh);
        if (dc != null) {
            System.arraycopy(dc, 0, dC0, stateOff, bh);
        }
    }

    /**
     * out (cols, rows) = transpose of the (rows, cols) matrix at {@code off}; reuses {@code out} if big enough.
     * In 32×32 tiles, so that both sides stay in cache.
     */
    static float[] transpose(float[] src, int off, int rows, int cols, float[] out) {
        float[] dst = grow(out, rows * cols);
        final int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            int r1 = Math.min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int c1 = Math.min(cols, c0 + tile);
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        dst[c * rows + r] = src[off + r * cols + c];
                    }
                }
            }
        }
        return dst;
    }

    /** (n1, n2, width) → (n2, n1, width): between batch-first and time-major layouts. */
    static void swapBatchTime(float[] src, float[] dst, int n1, int n2, int width) {
        for (int i = 0; i < n1; i++) {
            for (int j = 0; j < n2; j++) {
                System.arraycopy(src, (i * n2 + j) * width, dst, (j * n1 + i) * width, width);
            }
        }
    }
}
