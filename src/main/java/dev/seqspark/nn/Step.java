package dev.seqspark.nn;

/**
 * One time step of one (layer, direction) as a {@link Cell} sees it: where its inputs are and where its results
 * go, for a batch of B rows. {@link Recurrent}'s time loop fills it; one instance per layer object, reused.
 * Offsets are into the arrays named beside them; H-wide rows of row b start at offset + b·H, gate rows at
 * {@code gatesOff + b·G·H}.
 */
final class Step {
    final Kernels k = Kernels.get();
    int batch;
    int hidden;

    /** Gate pre-activations of this step, turned into activations in place: (B, G·H). */
    float[] gates;
    int gatesOff;
    /** Quantities kept for backward, (B, H) each. */
    float[][] saved;
    int savedOff;
    /** States: h_{t-1} at {@code prev}, h_t at {@code out}; LSTM cell states in {@code c} at the same offsets. */
    float[] h;
    float[] c;
    int prev;
    int out;
    /** A cell's per-step scratch, (B, G·H) (the GRU's recurrent multiply lands there). */
    float[] scratch;
    /** W_hh transposed, (H, G·H); {@code w[bhh]} is b_hh (−1 without bias). */
    float[] whhT;
    float[] w;
    int bhh;

    // Backward.
    /** dL/dh_t in, (B, H) at 0; for LSTM dL/dc_t, replaced by dL/dc_{t-1}. */
    float[] dh;
    float[] dc;
    /** The part of dL/dh_{t-1} that bypasses W_hh (cells with {@code directStateGradient}). */
    float[] dhPrev;
    /** Gate gradients, input side and recurrent side (the same array unless the cell separates them). */
    float[] dgi;
    float[] dgh;
    int dgOff;
}
