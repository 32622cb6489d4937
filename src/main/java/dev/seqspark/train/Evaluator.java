package dev.seqspark.train;

import dev.seqspark.nn.ModelSpec;
import dev.seqspark.nn.Params;
import dev.seqspark.text.BatchLayout;

/**
 * Cross-entropy of a model on a token stream, forward only: the sequential layout at offset 0 with the
 * state carried from zeros, as the reference evaluates validation perplexity. A stream too short for one
 * (batch × steps) block is read with fewer rows and steps, so that every stream of two or more tokens counts.
 */
public final class Evaluator {

    /** Σ −log p over {@code tokens} predicted tokens; perplexity = exp(lossSum / tokens). */
    public record Loss(double lossSum, long tokens) implements java.io.Serializable {
        public double perplexity() {
            return tokens == 0 ? Double.NaN : Math.exp(lossSum / tokens);
        }

        public Loss plus(Loss o) {
            return new Loss(lossSum + o.lossSum, tokens + o.tokens);
        }
    }

    private Evaluator() {}

    public static Loss evaluate(ModelSpec spec, float[] weights, int[] stream, int from, int length, int batch, int steps) {
        if (length < 2) {
            return new Loss(0, 0);
        }
        int b = Math.max(1, Math.min(batch, (length - 1) / steps));
        int t = Math.min(steps, (length - 1) / b);
        Params p = new Params(spec.layout());
        p.setValues(weights);
        LanguageModel lm = new LanguageModel(spec, p);
        LanguageModel.State state = new LanguageModel.State(spec, b);
        BatchLayout layout = BatchLayout.sequential(stream, from, length, b, t, 0);
        int[] x = new int[b * t];
        int[] y = new int[b * t];
        double sum = 0;
        long count = 0;
        for (int i = 0; i < layout.numBatches(); i++) {
            layout.fill(i, x, y);
            sum += lm.sumLoss(x, y, t, b, null, state);
            count += x.length;
        }
        return new Loss(sum, count);
    }
}
