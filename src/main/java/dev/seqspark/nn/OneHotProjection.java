package dev.seqspark.nn;

import java.util.Arrays;

/**
 * The input projection of one-hot tokens for one direction of layer 0: the projection of token v is column
 * v of {@code weight_ih_l0} (G·H × V) plus the row bias, gathered rather than multiplied by a one-hot matrix.
 *
 * <p>Per batch it touches only the batch's distinct tokens: their columns are gathered once into a compact
 * table, every row copies its token's entry, and backward sums the rows' gate gradients per distinct token
 * before adding them to those columns. The cost is O((distinct + rows) · G·H), independent of the vocabulary
 * size V. With frozen weights and a small vocabulary (V · G·H ≤ 4M floats, every char model) the table of
 * all V tokens is made once instead.
 */
final class OneHotProjection {
    private static final long FULL_TABLE_FLOATS = 1L << 22;

    private final int vocab;
    private final int gw;
    private final int[] slotOf;         // token → its slot in this batch's table, −1 when absent
    private int[] distinct = new int[0];
    private int count;
    private int[] rowSlot = new int[0];
    private float[] table = new float[0];
    private float[] gradTable = new float[0];
    private boolean fullTableReady;

    OneHotProjection(int vocab, int gateWidth) {
        this.vocab = vocab;
        this.gw = gateWidth;
        this.slotOf = new int[vocab];
        Arrays.fill(slotOf, -1);
    }

    /** The weights changed (or may change): a table made for frozen weights is stale. */
    void invalidate() {
        fullTableReady = false;
    }

    /**
     * gates[r·G·H …] = column tokens[r] of the (G·H × V) matrix at {@code w[wOff]} plus {@code rowBias}, for
     * rows [0, rows).
     */
    void forward(int[] tokens, int rows, float[] w, int wOff, float[] rowBias, boolean frozen, float[] gates) {
        if (frozen && (long) vocab * gw <= FULL_TABLE_FLOATS) {
            if (!fullTableReady) {
                table = Matrices.transpose(w, wOff, gw, vocab, table);
                for (int v = 0; v < vocab; v++) {
                    for (int j = 0; j < gw; j++) {
                        table[v * gw + j] += rowBias[j];
                    }
                }
                fullTableReady = true;
            }
            for (int r = 0; r < rows; r++) {
                System.arraycopy(table, tokens[r] * gw, gates, r * gw, gw);
            }
            return;
        }
        fullTableReady = false;
        collectDistinct(tokens, rows);
        table = grow(table, (long) count * gw);
        for (int j = 0; j < gw; j++) {              // row j of W once: its entries for this batch's tokens
            int row = wOff + j * vocab;
            float b = rowBias[j];
            for (int s = 0; s < count; s++) {
                table[s * gw + j] = w[row + distinct[s]] + b;
            }
        }
        for (int r = 0; r < rows; r++) {
            System.arraycopy(table, rowSlot[r] * gw, gates, r * gw, gw);
        }
    }

    /** grads[column tokens[r]] += dGates[r] for rows [0, rows) of the last forward's tokens. */
    void backward(int[] tokens, int rows, float[] dGates, float[] grads, int wOff) {
        collectDistinct(tokens, rows);
        gradTable = grow(gradTable, (long) count * gw);
        Arrays.fill(gradTable, 0, count * gw, 0f);
        for (int r = 0; r < rows; r++) {
            int dst = rowSlot[r] * gw;
            int src = r * gw;
            for (int j = 0; j < gw; j++) {
                gradTable[dst + j] += dGates[src + j];
            }
        }
        for (int j = 0; j < gw; j++) {
            int row = wOff + j * vocab;
            for (int s = 0; s < count; s++) {
                grads[row + distinct[s]] += gradTable[s * gw + j];
            }
        }
    }

    /** distinct[0, count): the tokens of rows [0, rows) in order of first appearance; rowSlot[r]: each row's. */
    private void collectDistinct(int[] tokens, int rows) {
        if (rowSlot.length < rows) {
            rowSlot = new int[rows];
            distinct = new int[Math.min(rows, vocab)];
        }
        count = 0;
        for (int r = 0; r < rows; r++) {
            int t = tokens[r];
            int s = slotOf[t];
            if (s < 0) {
                s = count++;
                slotOf[t] = s;
                distinct[s] = t;
            }
            rowSlot[r] = s;
        }
        for (int s = 0; s < count; s++) {
            slotOf[distinct[s]] = -1;
        }
    }

    private static float[] grow(float[] buf, long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a one-hot batch of " + size + " values does not fit in one array");
        }
        return buf.length >= size ? buf : new float[(int) size];
    }
}
