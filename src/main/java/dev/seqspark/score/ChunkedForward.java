package dev.seqspark.score;

import dev.seqspark.model.Encoder;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.Recurrent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The forward pass of scoring and prediction, for either task: many records through an {@link Encoder} at once,
 * in bounded memory, nothing kept for backward. Records are sorted by length, longest first, and grouped
 * {@code batchRows} at a time; a group runs up to {@code chunkSteps} steps at a time with every block's state carried
 * from chunk to chunk, and rows leave the group as their records end, so one very long record runs alone rather
 * than with idle neighbours. A chunk's steps shrink to fit the working-memory budget, down to one; the result is
 * the one of every record's whole forward. A bidirectional block needs whole records: its groups shrink to fit the
 * budget instead, and a record that alone needs more than 16 times it is refused.
 */
final class ChunkedForward {

    /** What a caller does with each chunk. */
    interface Chunk {
        /**
         * Steps [from, from + steps) of a group's first {@code rows} rows (records longest first): the top block's
         * output, time-major; row r has {@code lens[r]} valid steps in this chunk; rows [still, rows) end in it.
         */
        void accept(Recurrent.Output top, int from, int steps, int rows, int[] lens, int still);
    }

    private final NetworkSpec spec;
    private final Encoder encoder;
    private final int batchRows;
    private final int chunkSteps;
    private final long budgetFloats;
    private final long perRow;       // floats of working memory per (step, row)
    private final boolean whole;     // a bidirectional block: records run whole

    ChunkedForward(NetworkSpec spec, Encoder encoder, int batchRows, int chunkSteps, long budgetBytes) {
        if (batchRows <= 0 || chunkSteps <= 0 || budgetBytes <= 0) {
            throw new IllegalArgumentException("batch rows, chunk steps and the budget must be positive");
        }
        this.spec = spec;
        this.encoder = encoder;
        this.batchRows = batchRows;
        this.chunkSteps = chunkSteps;
        this.budgetFloats = budgetBytes / Float.BYTES;
        this.perRow = encoder.forwardFloatsPerRow();
        this.whole = spec.blocks().stream().anyMatch(RecurrentBlock::bidirectional);
    }

    /**
     * The indices of {@code records} in groups, each longest first, covering every record with a token (those
     * without one are left out): batchRows at a time, fewer where whole records must fit the budget.
     */
    List<int[]> groups(List<int[]> records) {
        int n = records.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(records.get(b).length, records.get(a).length));
        List<int[]> out = new ArrayList<>();
        int i = 0;
        while (i < n && records.get(order[i]).length > 0) {
            int longest = records.get(order[i]).length;
            int rows = 0;
            while (i + rows < n && rows < batchRows && records.get(order[i + rows]).length > 0) {
                rows++;
            }
            if (whole) {
                long fit = budgetFloats / Math.max(1, (long) longest * perRow);
                if (fit == 0 && (long) longest * perRow > 16 * budgetFloats) {
                    throw new IllegalArgumentException("a record of " + longest + " tokens is too long for this "
                            + "bidirectional model (it needs the whole record at once, " + ((long) longest * perRow * 4 >> 20)
                            + " MB); train it with data.max_length, or cut the records");
                }
                rows = (int) Math.max(1, Math.min(rows, fit));
            }
            int[] g = new int[rows];
            for (int k = 0; k < rows; k++) {
                g[k] = order[i + k];
            }
            out.add(g);
            i += rows;
        }
        return out;
    }

    /** Runs one group ({@code recs} longest first, each with a token) chunk by chunk into {@code chunk}. */
    void run(int[][] recs, Chunk chunk) {
        int rows = recs.length;
        int steps = whole ? recs[0].length
                : (int) Math.max(1, Math.min(chunkSteps, budgetFloats / Math.max(1, (long) rows * perRow)));
        int blocks = encoder.blockCount();
        float[][] h = new float[blocks][];
        float[][] c = new float[blocks][];
        int[] x = new int[steps * rows];
        int active = rows;
        for (int c0 = 0; active > 0; c0 += steps) {
            int n = Math.min(steps, recs[0].length - c0);
            int b = active;
            int[] lens = new int[b];
            for (int r = 0; r < b; r++) {
                lens[r] = Math.min(n, recs[r].length - c0);
                for (int t = 0; t < n; t++) {
                    x[t * b + r] = t < lens[r] ? recs[r][c0 + t] : 0;
                }
            }
            Recurrent.Output top = encoder.forward(x, n, b, lens, h, c, null);
            int still = b;
            while (still > 0 && recs[still - 1].length <= c0 + n) {
                still--;
            }
            chunk.accept(top, c0, n, b, lens, still);
            for (int k = 0; k < blocks && still > 0; k++) {
                Recurrent.Output o = encoder.output(k);
                h[k] = keepRows(o.hN(), k, b, still);
                c[k] = o.cN() == null ? null : keepRows(o.cN(), k, b, still);
            }
            active = still;
        }
    }

    /** Block k's state (L·D, rows, H) cut to its first {@code keep} rows (a copy: the block reuses its buffers). */
    private float[] keepRows(float[] s, int k, int rows, int keep) {
        RecurrentBlock blk = spec.blocks().get(k);
        int hidden = blk.hiddenSize();
        int slabs = blk.numLayers() * blk.directions();
        float[] out = new float[slabs * keep * hidden];
        for (int l = 0; l < slabs; l++) {
            System.arraycopy(s, l * rows * hidden, out, l * keep * hidden, keep * hidden);
        }
        return out;
    }
}
