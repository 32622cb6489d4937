package dev.seqspark.train;

import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.Params;

/**
 * Cross-entropy of a model on a token stream, forward only: the sequential layout at offset 0 with the
 * state carried from zeros, as the reference evaluates validation perplexity. A stream too short for one
 * (batch × steps) block is read with fewer rows and steps, so that every stream of two or more tokens counts.
 */
public final class Evaluator {

    /** Σ −log p over {@code count} predicted tokens; perplexity = exp(lossSum / count). */
    public record Loss(double lossSum, long count) implements Validation {
        public double perplexity() {
            return count == 0 ? Double.NaN : Math.exp(lossSum / count);
        }

        @Override
        public Loss plus(Validation o) {
            return new Loss(lossSum + o.lossSum(), count + o.count());
        }
    }

    private Evaluator() {}

    /** The (rows, steps, rowLength) of the evaluation layout of a stream of {@code length} tokens. */
    public record Dims(int rows, int steps, int rowLength) implements java.io.Serializable {
        public static Dims of(long length, int batch, int steps) {
            if (length < 2) {
                return new Dims(0, 0, 0);
            }
            int b = (int) Math.max(1, Math.min(batch, (length - 1) / steps));
            int t = (int) Math.min(steps, (length - 1) / b);
            return new Dims(b, t, (int) ((length - 1) / b));
        }

        /** Tokens of the stream rows [r0, r1) need: rows are independent, so workers can take blocks of them. */
        public long sliceStart(int r0) {
            return (long) r0 * rowLength;
        }

        public long sliceLength(int r0, int r1) {
            return r1 == r0 ? 0 : (long) (r1 - r0) * rowLength + 1;
        }
    }

    public static Loss evaluate(LanguageModelSpec spec, float[] weights, int[] stream, int from, int length, int batch, int steps) {
        Dims d = Dims.of(length, batch, steps);
        return evaluateRows(spec, weights, stream, from, d.rows(), d.steps(), d.rowLength());
    }

    /**
     * The loss of {@code rows} rows of {@code rowLength + 1} tokens starting at {@code from} (row r reads
     * stream[from + r·rowLength …]), {@code steps} at a time with the state carried: d2l's sequential layout.
     */
    public static Loss evaluateRows(LanguageModelSpec spec, float[] weights, int[] stream, int from, int rows, int steps,
                                    int rowLength) {
        int[][] source = new int[rows][];
        int[] start = new int[rows];
        for (int r = 0; r < rows; r++) {
            source[r] = stream;
            start[r] = from + r * rowLength;
        }
        return evaluateRows(spec, weights, source, start, steps, rowLength);
    }

    /**
     * As above, the rows gathered from several streams into one batch: row r reads {@code rowLength + 1} tokens of
     * {@code source[r]} from {@code start[r]} — the blocks of rows of the shards one task evaluates, which alone would
     * make batches of a row or two (rows are independent: a row's loss does not depend on its neighbours).
     */
    public static Loss evaluateRows(LanguageModelSpec spec, float[] weights, int[][] source, int[] start, int steps,
                                    int rowLength) {
        int rows = source.length;
        if (rows == 0 || steps == 0) {
            return new Loss(0, 0);
        }
        LanguageModel lm = new LanguageModel(spec, Params.of(spec.layout(), weights)).freezeWeights();
        LanguageModel.State state = new LanguageModel.State(spec, rows);
        int[] x = new int[rows * steps];
        int[] y = new int[rows * steps];
        double sum = 0;
        long count = 0;
        for (int i = 0; i < rowLength / steps; i++) {
            for (int r = 0; r < rows; r++) {   // time-major, as BatchLayout writes a batch
                int at = start[r] + i * steps;
                for (int t = 0; t < steps; t++) {
                    x[t * rows + r] = source[r][at + t];
                    y[t * rows + r] = source[r][at + t + 1];
                }
            }
            sum += lm.sumLoss(x, y, steps, rows, null, state);
            count += x.length;
        }
        return new Loss(sum, count);
    }
}
