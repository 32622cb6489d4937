package dev.seqspark.nn;

import static dev.seqspark.nn.Activations.sigmoidInPlace;
import static dev.seqspark.nn.Activations.tanhInPlace;

import java.util.Arrays;

/**
 * The per-step maths of a recurrent cell, forward and backward, for a whole batch. Everything else
 * (input projections, the time loop, directions, layers, lengths, caching) lives once in {@link Recurrent};
 * a cell sees row-major (batch × width) blocks of one time step.
 *
 * <p>The gate buffer {@code act} (rows of G·H at {@code aOff}) arrives holding W_ih·x + b_ih + b_hh, gets
 * W_hh·h_{t-1} added by {@link #addRecurrent}, and is turned into the gate activations in place by
 * {@link #forward}; backward reads them from there. Other quantities backward needs live in
 * {@code saved[k]} (rows of H at {@code sOff}, one array per quantity). h_{t-1} and h_t are rows of H in
 * {@code hs} at {@code hPrev} and {@code hOut}; {@code cs} likewise for the LSTM cell state.
 * {@code active[b]} false marks row b as past its sequence's length: its state is carried unchanged and,
 * in backward, its gradients pass straight through ({@code active == null}: every row is active).
 *
 * <p>Why the loops look as they do: HotSpot (JDK 17) compiles a loop to SIMD code only when all its array
 * accesses use one index, so tanh and σ run in place over ranges of {@code act} (see {@link Activations}).
 */
abstract class Cell {
    final int gates;

    Cell(int gates) {
        this.gates = gates;
    }

    /** How many H-wide quantities per row forward keeps in {@code saved} for backward. */
    int savedCount() {
        return 0;
    }

    /** True when dL/d(W_hh·h) differs from dL/d(W_ih·x) (GRU's n gate), so the two need separate buffers. */
    boolean separateRecurrentGrad() {
        return false;
    }

    /** Leading rows of b_hh that are added to the gate pre-activations once, together with b_ih. */
    int foldedRecurrentBiasRows(int hidden) {
        return gates * hidden;
    }

    /**
     * Adds W_hh·h_{t-1} to every row's gate pre-activations. {@code whhT} is W_hh transposed, (H, G·H):
     * multiplying by it untransposed runs about 20% faster in OpenBLAS at these small shapes.
     * {@code bhh} is the offset of b_hh in {@code w}, or −1 without bias.
     */
    void addRecurrent(int batch, int hidden, float[] whhT, float[] w, int bhh, float[] hs, int hPrev,
                      float[] act, int aOff, float[][] saved, int sOff) {
        int gw = gates * hidden;
        Blas.gemm(false, false, batch, gw, hidden, 1f, hs, hPrev, hidden, whhT, 0, gw, 1f, act, aOff, gw);
    }

    abstract void forward(int batch, int hidden, boolean[] active, float[] act, int aOff, float[][] saved, int sOff,
                          float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut);

    /**
     * In: {@code dh} = dL/dh_t (B×H); for LSTM {@code dc} = dL/dc_t (B×H, replaced by dL/dc_{t-1}).
     * Out: {@code dgi}, {@code dgh} (B×G·H at {@code dgOff}; the same array unless
     * {@link #separateRecurrentGrad}) and {@code dhPrev} = the part of dL/dh_{t-1} that does not go
     * through W_hh (the caller adds dgh·W_hh).
     */
    abstract void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                           float[] act, int aOff, float[][] saved, int sOff, float[] hs, int hPrev, int hOut,
                           float[] cs, int cPrev, int cOut, float[] dgi, float[] dgh, int dgOff);

    /** Inactive row in backward: no gate gradients, the state gradients pass through unchanged. */
    static void passThrough(int hidden, int gw, int b, float[] dh, float[] dhPrev, float[] dgi, float[] dgh, int dgOff) {
        System.arraycopy(dh, b * hidden, dhPrev, b * hidden, hidden);
        Arrays.fill(dgi, dgOff + b * gw, dgOff + (b + 1) * gw, 0f);
        if (dgh != dgi) {
            Arrays.fill(dgh, dgOff + b * gw, dgOff + (b + 1) * gw, 0f);
        }
    }

    static boolean inactive(boolean[] active, int b) {
        return active != null && !active[b];
    }

    /** h_t = the activation row for active rows, h_{t-1} for the others (Elman cells: h' is the gate itself). */
    static void copyState(int batch, int hidden, boolean[] active, float[] act, int aOff, float[] hs, int hPrev, int hOut) {
        for (int b = 0; b < batch; b++) {
            if (inactive(active, b)) {
                System.arraycopy(hs, hPrev + b * hidden, hs, hOut + b * hidden, hidden);
            } else {
                System.arraycopy(act, aOff + b * hidden, hs, hOut + b * hidden, hidden);
            }
        }
    }

    /** Elman RNN with tanh: h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh). */
    static final class TanhRnn extends Cell {
        TanhRnn() {
            super(1);
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] act, int aOff, float[][] saved, int sOff,
                     float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            tanhInPlace(act, aOff, aOff + batch * hidden);
            copyState(batch, hidden, active, act, aOff, hs, hPrev, hOut);
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] act, int aOff, float[][] saved, int sOff, float[] hs, int hPrev, int hOut,
                      float[] cs, int cPrev, int cOut, float[] dgi, float[] dgh, int dgOff) {
            for (int b = 0; b < batch; b++) {
                if (inactive(active, b)) {
                    passThrough(hidden, hidden, b, dh, dhPrev, dgi, dgh, dgOff);
                    continue;
                }
                int a = aOff + b * hidden;
                int r = b * hidden;
                int d = dgOff + b * hidden;
                for (int j = 0; j < hidden; j++) {
                    float h = act[a + j];
                    dgi[d + j] = dh[r + j] * (1f - h * h);
                }
                Arrays.fill(dhPrev, r, r + hidden, 0f);
            }
        }
    }

    /** Elman RNN with ReLU: h' = max(0, W_ih·x + b_ih + W_hh·h + b_hh); the gradient at 0 is 0, as PyTorch's. */
    static final class ReluRnn extends Cell {
        ReluRnn() {
            super(1);
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] act, int aOff, float[][] saved, int sOff,
                     float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            for (int i = aOff; i < aOff + batch * hidden; i++) {
                act[i] = Math.max(0f, act[i]);
            }
            copyState(batch, hidden, active, act, aOff, hs, hPrev, hOut);
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] act, int aOff, float[][] saved, int sOff, float[] hs, int hPrev, int hOut,
                      float[] cs, int cPrev, int cOut, float[] dgi, float[] dgh, int dgOff) {
            for (int b = 0; b < batch; b++) {
                if (inactive(active, b)) {
                    passThrough(hidden, hidden, b, dh, dhPrev, dgi, dgh, dgOff);
                    continue;
                }
                int a = aOff + b * hidden;
                int r = b * hidden;
                int d = dgOff + b * hidden;
                for (int j = 0; j < hidden; j++) {
                    dgi[d + j] = act[a + j] > 0f ? dh[r + j] : 0f;
                }
                Arrays.fill(dhPrev, r, r + hidden, 0f);
            }
        }
    }

    /**
     * GRU, gate blocks r, z, n: r, z = σ(W_i·x + b_i + W_h·h + b_h), n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)),
     * h' = (1 − z) ⊙ n + z ⊙ h. The n gate's recurrent part gh_n = W_hn·h + b_hn stays apart (saved[0]),
     * as PyTorch keeps it.
     */
    static final class Gru extends Cell {
        Gru() {
            super(3);
        }

        @Override
        int savedCount() {
            return 1;
        }

        @Override
        boolean separateRecurrentGrad() {
            return true;
        }

        @Override
        int foldedRecurrentBiasRows(int hidden) {
            return 2 * hidden;
        }

        @Override
        void addRecurrent(int batch, int hidden, float[] whhT, float[] w, int bhh, float[] hs, int hPrev,
                          float[] act, int aOff, float[][] saved, int sOff) {
            int gw = 3 * hidden;
            Blas.gemm(false, false, batch, 2 * hidden, hidden, 1f, hs, hPrev, hidden, whhT, 0, gw, 1f, act, aOff, gw);
            float[] ghn = saved[0];
            if (bhh >= 0) {
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(w, bhh + 2 * hidden, ghn, sOff + b * hidden, hidden);
                }
            }
            Blas.gemm(false, false, batch, hidden, hidden, 1f, hs, hPrev, hidden, whhT, 2 * hidden, gw,
                    bhh >= 0 ? 1f : 0f, ghn, sOff, hidden);
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] act, int aOff, float[][] saved, int sOff,
                     float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            float[] ghn = saved[0];
            int gw = 3 * hidden;
            for (int b = 0; b < batch; b++) {
                int hp = hPrev + b * hidden;
                int ho = hOut + b * hidden;
                if (inactive(active, b)) {
                    System.arraycopy(hs, hp, hs, ho, hidden);
                    continue;
                }
                int r = aOff + b * gw;
                int z = r + hidden;
                int n = z + hidden;
                int s = sOff + b * hidden;
                sigmoidInPlace(act, r, n);
                for (int j = 0; j < hidden; j++) {
                    act[n + j] += act[r + j] * ghn[s + j];
                }
                tanhInPlace(act, n, n + hidden);
                for (int j = 0; j < hidden; j++) {
                    float zj = act[z + j];
                    hs[ho + j] = (1f - zj) * act[n + j] + zj * hs[hp + j];
                }
            }
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] act, int aOff, float[][] saved, int sOff, float[] hs, int hPrev, int hOut,
                      float[] cs, int cPrev, int cOut, float[] dgi, float[] dgh, int dgOff) {
            float[] ghn = saved[0];
            int gw = 3 * hidden;
            for (int b = 0; b < batch; b++) {
                if (inactive(active, b)) {
                    passThrough(hidden, gw, b, dh, dhPrev, dgi, dgh, dgOff);
                    continue;
                }
                int hp = hPrev + b * hidden;
                int row = b * hidden;
                int s = sOff + row;
                int ar = aOff + b * gw;
                int az = ar + hidden;
                int an = az + hidden;
                int dr = dgOff + b * gw;
                int dz = dr + hidden;
                int dn = dz + hidden;
                for (int j = 0; j < hidden; j++) {
                    float g = dh[row + j];
                    float r = act[ar + j];
                    float z = act[az + j];
                    float n = act[an + j];
                    float dnPre = g * (1f - z) * (1f - n * n);
                    dgi[dn + j] = dnPre;
                    dgi[dr + j] = dnPre * ghn[s + j] * r * (1f - r);
                    dgi[dz + j] = g * (hs[hp + j] - n) * z * (1f - z);
                    dgh[dn + j] = dnPre * r;
                    dhPrev[row + j] = g * z;
                }
                // The recurrent side of r and z has the same gradient as the input side.
                System.arraycopy(dgi, dr, dgh, dr, 2 * hidden);
            }
        }
    }

    /**
     * LSTM, gate blocks i, f, g, o: i, f, o = σ(·), g = tanh(·), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
     * Saved: tanh(c').
     */
    static final class Lstm extends Cell {
        Lstm() {
            super(4);
        }

        @Override
        int savedCount() {
            return 1;
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] act, int aOff, float[][] saved, int sOff,
                     float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            float[] tc = saved[0];
            int gw = 4 * hidden;
            for (int b = 0; b < batch; b++) {
                int row = b * hidden;
                if (inactive(active, b)) {
                    System.arraycopy(hs, hPrev + row, hs, hOut + row, hidden);
                    System.arraycopy(cs, cPrev + row, cs, cOut + row, hidden);
                    continue;
                }
                int i = aOff + b * gw;
                int f = i + hidden;
                int g = f + hidden;
                int o = g + hidden;
                int s = sOff + row;
                sigmoidInPlace(act, i, g);
                tanhInPlace(act, g, o);
                sigmoidInPlace(act, o, o + hidden);
                for (int j = 0; j < hidden; j++) {
                    float c = act[f + j] * cs[cPrev + row + j] + act[i + j] * act[g + j];
                    cs[cOut + row + j] = c;
                    tc[s + j] = c;
                }
                tanhInPlace(tc, s, s + hidden);
                for (int j = 0; j < hidden; j++) {
                    hs[hOut + row + j] = act[o + j] * tc[s + j];
                }
            }
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] act, int aOff, float[][] saved, int sOff, float[] hs, int hPrev, int hOut,
                      float[] cs, int cPrev, int cOut, float[] dgi, float[] dgh, int dgOff) {
            float[] tcs = saved[0];
            int gw = 4 * hidden;
            for (int b = 0; b < batch; b++) {
                if (inactive(active, b)) {
                    passThrough(hidden, gw, b, dh, dhPrev, dgi, dgh, dgOff); // dc passes through in place
                    continue;
                }
                int row = b * hidden;
                int s = sOff + row;
                int ai = aOff + b * gw;
                int di = dgOff + b * gw;
                for (int j = 0; j < hidden; j++) {
                    float i = act[ai + j];
                    float f = act[ai + hidden + j];
                    float g = act[ai + 2 * hidden + j];
                    float o = act[ai + 3 * hidden + j];
                    float tc = tcs[s + j];
                    float gh = dh[row + j];
                    float dcTotal = dc[row + j] + gh * o * (1f - tc * tc);
                    dgi[di + j] = dcTotal * g * i * (1f - i);
                    dgi[di + hidden + j] = dcTotal * cs[cPrev + row + j] * f * (1f - f);
                    dgi[di + 2 * hidden + j] = dcTotal * i * (1f - g * g);
                    dgi[di + 3 * hidden + j] = gh * tc * o * (1f - o);
                    dc[row + j] = dcTotal * f;
                }
                Arrays.fill(dhPrev, row, row + hidden, 0f);
            }
        }
    }
}
