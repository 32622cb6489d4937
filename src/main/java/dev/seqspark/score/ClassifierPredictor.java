package dev.seqspark.score;

import dev.seqspark.io.Model;
import dev.seqspark.model.Classifier;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.Linear;
import dev.seqspark.nn.Pooling;
import dev.seqspark.nn.Recurrent;
import java.util.Arrays;
import java.util.List;

/**
 * A sequence classifier's predictions for many records, forward only: each record's logits (its tokens by the
 * model's tokenizer, cut to the model's max_length, every block from zero states, pooled over its valid steps).
 *
 * <p>Records run many at a time in chunks of steps ({@link ChunkedForward}), the pooling accumulated chunk by chunk
 * (the state at the last valid step, the running sum for the mean, the running maximum), so that the result is the
 * one of the whole record at once. Not thread-safe: one per task.
 */
public final class ClassifierPredictor {
    private final Model<ClassifierSpec> model;
    private final ClassifierSpec spec;
    private final ChunkedForward forward;
    private final Linear head;
    private final Pooling pooling;
    private final int width;          // pooled width: the last block's D·H

    public ClassifierPredictor(Model<ClassifierSpec> model, int batchRows, int chunkSteps) {
        this(model, batchRows, chunkSteps, Scorer.DEFAULT_BUDGET_BYTES);
    }

    public ClassifierPredictor(Model<ClassifierSpec> model, int batchRows, int chunkSteps, long budgetBytes) {
        this.model = model;
        this.spec = model.spec();
        Classifier network = new Classifier(spec, model.params()).freezeWeights();
        this.forward = new ChunkedForward(spec, network.encoder(), batchRows, chunkSteps, budgetBytes);
        this.head = new Linear(network.params(), ClassifierSpec.HEAD);
        this.pooling = spec.pooling();
        this.width = spec.pooledSize();
    }

    public Model<ClassifierSpec> model() {
        return model;
    }

    /** A record's token ids as the model was trained on them (null or empty text: none). */
    public int[] encode(String text) {
        return model.encode(text);
    }

    /** The logits (classes) of every record, in the order given; null for a record without a token. */
    public float[][] predict(List<int[]> records) {
        float[][] out = new float[records.size()][];
        for (int[] group : forward.groups(records)) {
            int[][] recs = new int[group.length][];
            for (int k = 0; k < recs.length; k++) {
                recs[k] = records.get(group[k]);
            }
            float[][] logits = predictGroup(recs);
            for (int k = 0; k < recs.length; k++) {
                out[group[k]] = logits[k];
            }
        }
        return out;
    }

    /** One group, longest first, every record with a token. */
    private float[][] predictGroup(int[][] recs) {
        int rows = recs.length;
        double[] sum = pooling == Pooling.MEAN ? new double[rows * width] : null;
        float[] pooled = new float[rows * width];
        if (pooling == Pooling.MAX) {
            Arrays.fill(pooled, Float.NEGATIVE_INFINITY);
        }
        forward.run(recs, (Recurrent.Output top, int c0, int steps, int b, int[] lens, int still) -> {
            if (pooling == Pooling.LAST) {
                lastStates(top.hN(), b, still, pooled);
            } else {
                accumulate(top.output(), b, lens, pooled, sum);
            }
        });
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
    private void accumulate(float[] out, int b, int[] lens, float[] pooled, double[] sum) {
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
        RecurrentBlock top = spec.blocks().get(spec.blocks().size() - 1);
        int hidden = top.hiddenSize();
        int dirs = top.directions();
        for (int d = 0; d < dirs; d++) {
            int block = ((top.numLayers() - 1) * dirs + d) * b * hidden;
            for (int r = from; r < b; r++) {
                System.arraycopy(hN, block + r * hidden, pooled, r * width + d * hidden, hidden);
            }
        }
    }
}
