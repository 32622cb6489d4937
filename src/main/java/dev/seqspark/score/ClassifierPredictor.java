package dev.seqspark.score;

import dev.seqspark.io.ClassifierModel;
import dev.seqspark.nn.ClassifierSpec;
import dev.seqspark.nn.Embedding;
import dev.seqspark.nn.Linear;
import dev.seqspark.nn.Params;
import dev.seqspark.nn.Pooling;
import dev.seqspark.nn.Recurrent;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.Vocab;
import java.util.Arrays;
import java.util.List;

/**
 * A sequence classifier's predictions for many records, forward only: each record's logits (its tokens by the
 * model's tokenizer, cut to the model's max_length, every block from zero states, pooled over its valid steps).
 *
 * <p>Records are predicted many at a time: sorted by length, grouped {@code batchRows} at a time, and run through
 * the packed variable-length recurrent blocks. When every block is unidirectional a group runs up to
 * {@code chunkSteps} steps at a time with each block's state carried and the pooling accumulated (the state at
 * the last valid step, the running sum for the mean, the running maximum), and records leave the group as they
 * end: working memory is bounded by the budget whatever the records' lengths, and the result is the one of the
 * whole record at once. A bidirectional block needs the whole record: groups shrink so that they fit the budget,
 * and a record that alone needs more than 16 times it is refused (train with data.max_length). Nothing is
 * allocated for backward. Not thread-safe: one per task.
 */
public final class ClassifierPredictor {
    /** Working memory for the recurrent forward: as the language model's scorer. */
    public static final long DEFAULT_BUDGET_BYTES = Scorer.DEFAULT_BUDGET_BYTES;

    private final ClassifierModel model;
    private final ClassifierSpec spec;
    private final Tokenizer tokenizer;
    private final Vocab vocab;
    private final Embedding embedding;
    private final Recurrent[] blocks;
    private final Linear head;
    private final Pooling pooling;
    private final int width;          // pooled width: the last block's D·H
    private final boolean chunked;    // every block unidirectional
    private final int batchRows;
    private final int chunkSteps;
    private final long budgetFloats;
    private final long perRow;

    public ClassifierPredictor(ClassifierModel model, int batchRows, int chunkSteps) {
        this(model, batchRows, chunkSteps, DEFAULT_BUDGET_BYTES);
    }

    public ClassifierPredictor(ClassifierModel model, int batchRows, int chunkSteps, long budgetBytes) {
        if (batchRows <= 0 || chunkSteps <= 0 || budgetBytes <= 0) {
            throw new IllegalArgumentException("batch rows, chunk steps and the budget must be positive");
        }
        this.model = model;
        this.spec = model.spec();
        this.tokenizer = model.tokenizer();
        this.vocab = model.vocab();
        Params params = model.params();
        this.embedding = spec.embeddingDim() > 0 ? new Embedding(params, ClassifierSpec.EMBEDDING) : null;
        this.blocks = new Recurrent[spec.blocks().size()];
        long floats = Math.max(0, spec.embeddingDim());
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new Recurrent(spec.recurrent(i), params, spec.prefix(i));
            blocks[i].freezeWeights();
            floats += blocks[i].forwardFloatsPerRow();
        }
        this.perRow = floats;
        this.head = new Linear(params, ClassifierSpec.HEAD);
        this.pooling = spec.pooling();
        this.width = spec.pooledSize();
        this.chunked = spec.blocks().stream().noneMatch(ClassifierSpec.Block::bidirectional);
        this.batchRows = batchRows;
        this.chunkSteps = chunkSteps;
        this.budgetFloats = budgetBytes / Float.BYTES;
    }

    public ClassifierModel model() {
        return model;
    }

    /** A record's token ids as the model was trained on them (null or empty text: none). */
    public int[] encode(String text) {
        return ClassifierModel.encode(tokenizer, vocab, model.config().maxLength(), text);
    }

    /** The logits (classes) of every record, in the order given; null for a record without a token. */
    public float[][] predict(List<int[]> records) {
        int n = records.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(records.get(b).length, records.get(a).length));
        float[][] out = new float[n][];
        int i = 0;
        while (i < n && records.get(order[i]).length > 0) {
            int longest = records.get(order[i]).length;
            int rows = 0;
            while (i + rows < n && rows < batchRows && records.get(order[i + rows]).length > 0) {
                rows++;
            }
            if (!chunked) {
                long fit = budgetFloats / Math.max(1, (long) longest * perRow);
                if (fit == 0 && (long) longest * perRow > 16 * budgetFloats) {
                    throw new IllegalArgumentException("a record of " + longest + " tokens is too long for this "
                            + "bidirectional model (it needs the whole record at once, " + ((long) longest * perRow * 4 >> 20)
                            + " MB); train it with data.max_length, or cut the records");
                }
                rows = (int) Math.max(1, Math.min(rows, fit));
            }
            int[][] group = new int[rows][];
            for (int k = 0; k < rows; k++) {
                group[k] = records.get(order[i + k]);
            }
            float[][] logits = predictGroup(group);
            for (int k = 0; k < rows; k++) {
                out[order[i + k]] = logits[k];
            }
            i += rows;
        }
        return out;
    }

    /** One group, longest first, every record with a token: rows [0, active) are those not yet finished. */
    private float[][] predictGroup(int[][] recs) {
        int rows = recs.length;
        int longest = recs[0].length;
        int chunk = chunked ? (int) Math.max(1, Math.min(chunkSteps, budgetFloats / Math.max(1, (long) rows * perRow)))
                : longest;
        float[][] h = new float[blocks.length][];
        float[][] c = new float[blocks.length][];
        double[] sum = pooling == Pooling.MEAN ? new double[rows * width] : null;
        float[] pooled = new float[rows * width];
        if (pooling == Pooling.MAX) {
            Arrays.fill(pooled, Float.NEGATIVE_INFINITY);
        }
        int[] x = new int[0];
        int active = rows;
        for (int c0 = 0; active > 0; c0 += chunk) {
            int steps = Math.min(chunk, recs[0].length - c0);
            int b = active;
            if (x.length < steps * b) {
                x = new int[steps * b];
            }
            int[] lens = new int[b];
            for (int r = 0; r < b; r++) {
                lens[r] = Math.min(steps, recs[r].length - c0);
                for (int t = 0; t < steps; t++) {
                    x[t * b + r] = t < lens[r] ? recs[r][c0 + t] : 0;
                }
            }
            Recurrent.Output o = null;
            for (int k = 0; k < blocks.length; k++) {
                if (k == 0) {
                    o = embedding == null ? blocks[0].forwardTokens(x, steps, b, lens, h[0], c[0], null)
                            : blocks[0].forward(embedding.forward(x, steps * b), steps, b, lens, h[0], c[0], null);
                } else {
                    o = blocks[k].forward(o.output(), steps, b, lens, h[k], c[k], null);
                }
                if (chunked) {
                    h[k] = o.hN().clone();
                    c[k] = o.cN() == null ? null : o.cN().clone();
                }
            }
            accumulate(o, steps, b, lens, pooled, sum);
            int still = b;
            while (still > 0 && recs[still - 1].length <= c0 + steps) {
                still--;
            }
            if (pooling == Pooling.LAST) {
                lastStates(o.hN(), b, still, pooled);
            }
            if (still > 0 && still < b) {
                for (int k = 0; k < blocks.length; k++) {
                    h[k] = shrink(h[k], k, b, still);
                    c[k] = c[k] == null ? null : shrink(c[k], k, b, still);
                }
            }
            active = still;
        }
        if (sum != null) {
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < width; j++) {
                    pooled[r * width + j] = (float) (sum[r * width + j] / recs[r].length);
                }
            }
        }
        float[] logits = head.forward(pooled, rows);
        int classes = spec.numClasses();
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOfRange(logits, r * classes, (r + 1) * classes);
        }
        return out;
    }

    /** The running sum (mean) or maximum (max) over the chunk's valid steps of the top block's output. */
    private void accumulate(Recurrent.Output o, int steps, int b, int[] lens, float[] pooled, double[] sum) {
        if (pooling == Pooling.LAST) {
            return;
        }
        float[] out = o.output();
        for (int r = 0; r < b; r++) {
            for (int t = 0; t < lens[r]; t++) {
                int row = (t * b + r) * width;
                for (int j = 0; j < width; j++) {
                    float v = out[row + j];
                    if (sum != null) {
                        sum[r * width + j] += v;
                    } else if (v > pooled[r * width + j]) {
                        pooled[r * width + j] = v;
                    }
                }
            }
        }
    }

    /** Rows [from, b) ended in this chunk: their pooled vector is the top layer's h_n (both directions). */
    private void lastStates(float[] hN, int b, int from, float[] pooled) {
        ClassifierSpec.Block top = spec.blocks().get(blocks.length - 1);
        int hidden = top.hiddenSize();
        int dirs = top.directions();
        for (int d = 0; d < dirs; d++) {
            int block = ((top.numLayers() - 1) * dirs + d) * b * hidden;
            for (int r = from; r < b; r++) {
                System.arraycopy(hN, block + r * hidden, pooled, r * width + d * hidden, hidden);
            }
        }
    }

    /** Block k's state (L·D, rows, H) cut to its first {@code keep} rows. */
    private float[] shrink(float[] s, int k, int rows, int keep) {
        ClassifierSpec.Block blk = spec.blocks().get(k);
        int hidden = blk.hiddenSize();
        int slabs = blk.numLayers() * blk.directions();
        float[] out = new float[slabs * keep * hidden];
        for (int l = 0; l < slabs; l++) {
            System.arraycopy(s, l * rows * hidden, out, l * keep * hidden, keep * hidden);
        }
        return out;
    }
}
