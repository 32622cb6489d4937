package dev.seqspark.nn;

/**
 * The elementwise maths of one time step of a recurrent cell, forward and backward, for a whole batch.
 * Everything else (projections, the time loop, directions, layers, lengths, caching) lives once in
 * {@link Recurrent}; a cell sees only row-major (batch × width) blocks.
 *
 * <p>Arguments shared by both passes ({@code G} gates, {@code H} hidden, {@code S} = {@link #savedWidth}):
 * <ul>
 *   <li>{@code active[b]} false: row b is past its sequence's length at this step — its state is carried
 *       unchanged, and in backward its gradients pass straight through ({@code active == null}: all rows).</li>
 *   <li>{@code gi}: the input projection W_ih·x + b_ih, rows of G·H at {@code giOff}.</li>
 *   <li>{@code gh}: the recurrent projection W_hh·h + b_hh, rows of G·H from 0 (scratch: cells may overwrite it).</li>
 *   <li>{@code saved}: what backward needs from forward, rows of S at {@code savOff}.</li>
 *   <li>{@code hs}: h_{t-1} at {@code hPrev}, h_t at {@code hOut}, rows of H; {@code cs} likewise (LSTM).</li>
 * </ul>
 */
abstract class Cell {

    /** Floats per row that forward keeps for backward. */
    abstract int savedWidth(int hidden);

    /** True when dL/d(W_hh·h) differs from dL/d(W_ih·x) (GRU's n gate), so the two need separate buffers. */
    boolean separateRecurrentGrad() {
        return false;
    }

    abstract void forward(int batch, int hidden, boolean[] active, float[] gi, int giOff, float[] gh,
                          float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut);

    /**
     * In: {@code dh} = dL/dh_t (B×H); for LSTM {@code dc} = dL/dc_t (B×H, replaced by dL/dc_{t-1}).
     * Out: {@code dgi}, {@code dgh} (B×G·H at {@code dgOff}; the same array for most cells) and
     * {@code dhPrev} = the part of dL/dh_{t-1} that does not go through W_hh (the caller adds dgh·W_hh).
     */
    abstract void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                           float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut,
                           float[] dgi, float[] dgh, int dgOff);

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** tanh through exp (Math.tanh is not an intrinsic), accurate to float precision. */
    static float tanh(float x) {
        double e = Math.exp(-2.0 * Math.abs(x));
        double t = (1.0 - e) / (1.0 + e);
        return (float) (x < 0 ? -t : t);
    }

    /** Inactive row in backward: no gate gradients, the state gradients pass through unchanged. */
    static void passThrough(int hidden, int gw, int b, float[] dh, float[] dhPrev, float[] dgi, float[] dgh, int dgOff) {
        System.arraycopy(dh, b * hidden, dhPrev, b * hidden, hidden);
        java.util.Arrays.fill(dgi, dgOff + b * gw, dgOff + (b + 1) * gw, 0f);
        if (dgh != dgi) {
            java.util.Arrays.fill(dgh, dgOff + b * gw, dgOff + (b + 1) * gw, 0f);
        }
    }

    /** Elman RNN with tanh: h' = tanh(gi + gh). Backward reads h' from {@code hs}; nothing saved. */
    static final class TanhRnn extends Cell {
        @Override
        int savedWidth(int hidden) {
            return 0;
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] gi, int giOff, float[] gh,
                     float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            for (int b = 0; b < batch; b++) {
                int ho = hOut + b * hidden;
                if (active != null && !active[b]) {
                    System.arraycopy(hs, hPrev + b * hidden, hs, ho, hidden);
                    continue;
                }
                int g = giOff + b * hidden;
                int r = b * hidden;
                for (int j = 0; j < hidden; j++) {
                    hs[ho + j] = tanh(gi[g + j] + gh[r + j]);
                }
            }
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut,
                      float[] dgi, float[] dgh, int dgOff) {
            for (int b = 0; b < batch; b++) {
                if (active != null && !active[b]) {
                    passThrough(hidden, hidden, b, dh, dhPrev, dgi, dgh, dgOff);
                    continue;
                }
                int ho = hOut + b * hidden;
                int r = b * hidden;
                int d = dgOff + b * hidden;
                for (int j = 0; j < hidden; j++) {
                    float h = hs[ho + j];
                    dgi[d + j] = dh[r + j] * (1f - h * h);
                    dhPrev[r + j] = 0f;
                }
            }
        }
    }

    /** Elman RNN with ReLU: h' = max(0, gi + gh); PyTorch's relu gradient at 0 is 0. */
    static final class ReluRnn extends Cell {
        @Override
        int savedWidth(int hidden) {
            return 0;
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] gi, int giOff, float[] gh,
                     float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            for (int b = 0; b < batch; b++) {
                int ho = hOut + b * hidden;
                if (active != null && !active[b]) {
                    System.arraycopy(hs, hPrev + b * hidden, hs, ho, hidden);
                    continue;
                }
                int g = giOff + b * hidden;
                int r = b * hidden;
                for (int j = 0; j < hidden; j++) {
                    hs[ho + j] = Math.max(0f, gi[g + j] + gh[r + j]);
                }
            }
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut,
                      float[] dgi, float[] dgh, int dgOff) {
            for (int b = 0; b < batch; b++) {
                if (active != null && !active[b]) {
                    passThrough(hidden, hidden, b, dh, dhPrev, dgi, dgh, dgOff);
                    continue;
                }
                int ho = hOut + b * hidden;
                int r = b * hidden;
                int d = dgOff + b * hidden;
                for (int j = 0; j < hidden; j++) {
                    dgi[d + j] = hs[ho + j] > 0f ? dh[r + j] : 0f;
                    dhPrev[r + j] = 0f;
                }
            }
        }
    }

    /**
     * GRU, gate blocks r, z, n. Saved per row: r, z, n and W_hn·h + b_hn (the n gate's recurrent part,
     * which PyTorch keeps apart from the input part: n = tanh(gi_n + r ⊙ gh_n)).
     */
    static final class Gru extends Cell {
        @Override
        int savedWidth(int hidden) {
            return 4 * hidden;
        }

        @Override
        boolean separateRecurrentGrad() {
            return true;
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] gi, int giOff, float[] gh,
                     float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            int gw = 3 * hidden;
            int sw = 4 * hidden;
            for (int b = 0; b < batch; b++) {
                int hp = hPrev + b * hidden;
                int ho = hOut + b * hidden;
                if (active != null && !active[b]) {
                    System.arraycopy(hs, hp, hs, ho, hidden);
                    continue;
                }
                int i = giOff + b * gw;
                int g = b * gw;
                int s = savOff + b * sw;
                for (int j = 0; j < hidden; j++) {
                    float r = sigmoid(gi[i + j] + gh[g + j]);
                    float z = sigmoid(gi[i + hidden + j] + gh[g + hidden + j]);
                    float ghn = gh[g + 2 * hidden + j];
                    float n = tanh(gi[i + 2 * hidden + j] + r * ghn);
                    hs[ho + j] = (1f - z) * n + z * hs[hp + j];
                    saved[s + j] = r;
                    saved[s + hidden + j] = z;
                    saved[s + 2 * hidden + j] = n;
                    saved[s + 3 * hidden + j] = ghn;
                }
            }
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut,
                      float[] dgi, float[] dgh, int dgOff) {
            int gw = 3 * hidden;
            int sw = 4 * hidden;
            for (int b = 0; b < batch; b++) {
                if (active != null && !active[b]) {
                    passThrough(hidden, gw, b, dh, dhPrev, dgi, dgh, dgOff);
                    continue;
                }
                int hp = hPrev + b * hidden;
                int row = b * hidden;
                int s = savOff + b * sw;
                int d = dgOff + b * gw;
                for (int j = 0; j < hidden; j++) {
                    float r = saved[s + j];
                    float z = saved[s + hidden + j];
                    float n = saved[s + 2 * hidden + j];
                    float ghn = saved[s + 3 * hidden + j];
                    float g = dh[row + j];
                    float dnPre = g * (1f - z) * (1f - n * n);
                    float dzPre = g * (hs[hp + j] - n) * z * (1f - z);
                    float drPre = dnPre * ghn * r * (1f - r);
                    dgi[d + j] = drPre;
                    dgi[d + hidden + j] = dzPre;
                    dgi[d + 2 * hidden + j] = dnPre;
                    dgh[d + j] = drPre;
                    dgh[d + hidden + j] = dzPre;
                    dgh[d + 2 * hidden + j] = dnPre * r;
                    dhPrev[row + j] = g * z;
                }
            }
        }
    }

    /** LSTM, gate blocks i, f, g, o. Saved per row: i, f, g, o and tanh(c'). */
    static final class Lstm extends Cell {
        @Override
        int savedWidth(int hidden) {
            return 5 * hidden;
        }

        @Override
        void forward(int batch, int hidden, boolean[] active, float[] gi, int giOff, float[] gh,
                     float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut) {
            int gw = 4 * hidden;
            int sw = 5 * hidden;
            for (int b = 0; b < batch; b++) {
                int row = b * hidden;
                if (active != null && !active[b]) {
                    System.arraycopy(hs, hPrev + row, hs, hOut + row, hidden);
                    System.arraycopy(cs, cPrev + row, cs, cOut + row, hidden);
                    continue;
                }
                int x = giOff + b * gw;
                int g = b * gw;
                int s = savOff + b * sw;
                for (int j = 0; j < hidden; j++) {
                    float ig = sigmoid(gi[x + j] + gh[g + j]);
                    float fg = sigmoid(gi[x + hidden + j] + gh[g + hidden + j]);
                    float gg = tanh(gi[x + 2 * hidden + j] + gh[g + 2 * hidden + j]);
                    float og = sigmoid(gi[x + 3 * hidden + j] + gh[g + 3 * hidden + j]);
                    float c = fg * cs[cPrev + row + j] + ig * gg;
                    float tc = tanh(c);
                    cs[cOut + row + j] = c;
                    hs[hOut + row + j] = og * tc;
                    saved[s + j] = ig;
                    saved[s + hidden + j] = fg;
                    saved[s + 2 * hidden + j] = gg;
                    saved[s + 3 * hidden + j] = og;
                    saved[s + 4 * hidden + j] = tc;
                }
            }
        }

        @Override
        void backward(int batch, int hidden, boolean[] active, float[] dh, float[] dhPrev, float[] dc,
                      float[] saved, int savOff, float[] hs, int hPrev, int hOut, float[] cs, int cPrev, int cOut,
                      float[] dgi, float[] dgh, int dgOff) {
            int gw = 4 * hidden;
            int sw = 5 * hidden;
            for (int b = 0; b < batch; b++) {
                if (active != null && !active[b]) {
                    passThrough(hidden, gw, b, dh, dhPrev, dgi, dgh, dgOff); // dc passes through in place
                    continue;
                }
                int row = b * hidden;
                int s = savOff + b * sw;
                int d = dgOff + b * gw;
                for (int j = 0; j < hidden; j++) {
                    float ig = saved[s + j];
                    float fg = saved[s + hidden + j];
                    float gg = saved[s + 2 * hidden + j];
                    float og = saved[s + 3 * hidden + j];
                    float tc = saved[s + 4 * hidden + j];
                    float g = dh[row + j];
                    float dcTotal = dc[row + j] + g * og * (1f - tc * tc);
                    dgi[d + j] = dcTotal * gg * ig * (1f - ig);
                    dgi[d + hidden + j] = dcTotal * cs[cPrev + row + j] * fg * (1f - fg);
                    dgi[d + 2 * hidden + j] = dcTotal * ig * (1f - gg * gg);
                    dgi[d + 3 * hidden + j] = g * tc * og * (1f - og);
                    dc[row + j] = dcTotal * fg;
                    dhPrev[row + j] = 0f;
                }
            }
        }
    }
}
