package dev.seqspark.nn;

/**
 * The per-step maths of a recurrent cell, forward and backward, for a whole batch; the formulas themselves
 * are {@link Kernels}'. Everything else (input projections, the time loop, directions, layers, lengths,
 * rows past their sequence's length, caching) lives once in {@link Recurrent}; a cell sees one {@link Step}.
 *
 * <p>The gate buffer arrives holding W_ih·x + b_ih + b_hh (b_hh only where the cell adds it straight to the
 * gates), gets W_hh·h_{t-1} added by {@link #addRecurrent}, and is turned into the gate activations in place
 * by {@link #forward}; backward reads them from there.
 */
abstract class Cell {
    final int gates;

    Cell(int gates) {
        this.gates = gates;
    }

    /** How many H-wide quantities per row forward keeps in {@code Step.saved} for backward. */
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

    /** True when backward writes a part of dL/dh_{t-1} that bypasses W_hh into dhPrev (else it leaves it alone). */
    boolean directStateGradient() {
        return false;
    }

    /**
     * Adds W_hh·h_{t-1} to every row's gate pre-activations. W_hh is used transposed, (H, G·H): multiplying by
     * it untransposed runs about 20% faster in OpenBLAS at these small shapes.
     */
    void addRecurrent(Step s) {
        int gw = gates * s.hidden;
        Blas.gemm(false, false, s.batch, gw, s.hidden, 1f, s.h, s.prev, s.hidden, s.whhT, 0, gw, 1f, s.gates, s.gatesOff, gw);
    }

    /** Gate activations in place, h_t (and c_t) for every row, and what backward needs in {@code saved}. */
    abstract void forward(Step s);

    /**
     * In: dL/dh_t ({@code dh}); for LSTM dL/dc_t ({@code dc}, replaced by dL/dc_{t-1}). Out: the gate gradients
     * {@code dgi} and {@code dgh} (the same array unless {@link #separateRecurrentGrad}) and, when
     * {@link #directStateGradient}, the part of dL/dh_{t-1} that does not go through W_hh in {@code dhPrev}.
     */
    abstract void backward(Step s);

    /** Elman RNN: h' = f(W_ih·x + b_ih + W_hh·h + b_hh), f = tanh or ReLU; the gate is the new state itself. */
    static final class Elman extends Cell {
        private final boolean relu;

        Elman(boolean relu) {
            super(1);
            this.relu = relu;
        }

        @Override
        void forward(Step s) {
            int n = s.batch * s.hidden;
            if (relu) {
                s.k.relu(s.gates, s.gatesOff, s.gatesOff + n);
            } else {
                s.k.tanh(s.gates, s.gatesOff, s.gatesOff + n);
            }
            System.arraycopy(s.gates, s.gatesOff, s.h, s.out, n);
        }

        @Override
        void backward(Step s) {
            int n = s.batch * s.hidden;
            if (relu) {
                s.k.reluBackward(s.gates, s.gatesOff, s.dh, 0, s.dgi, s.dgOff, n);
            } else {
                s.k.tanhBackward(s.gates, s.gatesOff, s.dh, 0, s.dgi, s.dgOff, n);
            }
        }
    }

    /**
     * GRU, gate blocks r, z, n: r, z = σ(W_i·x + b_i + W_h·h + b_h), n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)),
     * h' = (1 − z) ⊙ n + z ⊙ h. The n gate's recurrent part gh_n = W_hn·h + b_hn stays apart (saved[0]), as
     * PyTorch keeps it.
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
        boolean directStateGradient() {
            return true;
        }

        /**
         * One multiply for all three blocks, h_{t-1}·W_hhᵀ (+ b_hn in the n block), into the step's scratch
         * {@code rh}: the kernel adds the r and z blocks to the input side and keeps the n block apart.
         */
        @Override
        void addRecurrent(Step s) {
            int hidden = s.hidden;
            int gw = 3 * hidden;
            float[] rh = s.scratch;
            for (int b = 0; b < s.batch; b++) {
                int q = b * gw;
                java.util.Arrays.fill(rh, q, q + 2 * hidden, 0f);
                if (s.bhh >= 0) {
                    System.arraycopy(s.w, s.bhh + 2 * hidden, rh, q + 2 * hidden, hidden);
                } else {
                    java.util.Arrays.fill(rh, q + 2 * hidden, q + gw, 0f);
                }
            }
            Blas.gemm(false, false, s.batch, gw, hidden, 1f, s.h, s.prev, hidden, s.whhT, 0, gw, 1f, rh, 0, gw);
        }

        @Override
        void forward(Step s) {
            s.k.gruForward(s.batch, s.hidden, s.gates, s.gatesOff, s.scratch, s.saved[0], s.savedOff, s.h, s.prev,
                    s.out);
        }

        @Override
        void backward(Step s) {
            s.k.gruBackward(s.batch, s.hidden, s.gates, s.gatesOff, s.saved[0], s.savedOff, s.h, s.prev, s.dh,
                    s.dhPrev, s.dgi, s.dgh, s.dgOff);
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
        void forward(Step s) {
            s.k.lstmForward(s.batch, s.hidden, s.gates, s.gatesOff, s.saved[0], s.savedOff, s.h, s.c, s.prev, s.out);
        }

        @Override
        void backward(Step s) {
            s.k.lstmBackward(s.batch, s.hidden, s.gates, s.gatesOff, s.saved[0], s.savedOff, s.c, s.prev, s.dh,
                    s.dc, s.dgi, s.dgOff);
        }
    }
}
