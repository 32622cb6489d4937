package dev.seqspark.nn;

/**
 * What one (layer, direction) of a {@link Recurrent} keeps: the views of its four tensors, its work buffers
 * (grown to the largest batch seen, never shrunk) and its cached copies of the weights.
 */
final class DirectionBuffers {
    final ParamLayout.TensorView wIh;
    final ParamLayout.TensorView wHh;
    final ParamLayout.TensorView bIh;     // null without bias
    final ParamLayout.TensorView bHh;
    /** Gate pre-activations, then activations in place: (T·B, G·H). */
    float[] gates;
    /** Quantities a cell keeps for backward: (T·B, H) each. */
    float[][] saved;
    /** States ((T+1)·B, H): slot 0 (forward direction) or slot T (reverse) holds h0, slot t+1 (or t) h_t. */
    float[] h;
    /** LSTM cell states, as {@code h}; null for other cells. */
    float[] c;
    /** weight_hh transposed, (H, G·H), with one spare row: netlib checks offset + ld·cols ≤ length (GRU's n block). */
    float[] whhT;
    boolean whhTReady;
    /** The gather of weight_ih_l0's columns, for token input at layer 0. */
    OneHotProjection tokens;

    DirectionBuffers(ParamLayout.TensorView wIh, ParamLayout.TensorView wHh, ParamLayout.TensorView bIh,
                     ParamLayout.TensorView bHh) {
        this.wIh = wIh;
        this.wHh = wHh;
        this.bIh = bIh;
        this.bHh = bHh;
    }

    void allocate(int rows, int batch, int gateWidth, int hidden, int savedCount, boolean cellState) {
        gates = new float[Matrices.checkedSize((long) rows * gateWidth)];
        saved = new float[savedCount][rows * hidden];
        h = new float[(rows + batch) * hidden];
        c = cellState ? new float[(rows + batch) * hidden] : null;
    }

    /** weight_hh transposed from {@code w}, made again unless the weights are frozen and it is made already. */
    float[] whhT(float[] w, int gateWidth, int hidden, boolean frozen) {
        if (!frozen || !whhTReady) {
            whhT = Matrices.grow(whhT, hidden * gateWidth + gateWidth);
            Matrices.transpose(w, wHh.offset(), gateWidth, hidden, whhT);
            whhTReady = true;
        }
        return whhT;
    }

    /** The weights may have changed: cached copies are stale. */
    void invalidate() {
        whhTReady = false;
        if (tokens != null) {
            tokens.invalidate();
        }
    }
}
