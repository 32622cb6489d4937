package dev.seqspark.train;

/**
 * What evaluating a model on held-out data gives, per shard and merged in shard order (a fixed order of additions):
 * Σ loss over {@link #count()} examples — the language model's {@link Evaluator.Loss} (perplexity), the classifier's
 * {@link ClassMetrics} (accuracy, macro-F1, confusion matrix as well).
 */
public interface Validation extends java.io.Serializable {
    double lossSum();

    /** Examples evaluated: predicted tokens, or records. */
    long count();

    /** This and {@code other} (of the same task) together. */
    Validation plus(Validation other);

    /** Mean loss per example; NaN when there were none. */
    default double meanLoss() {
        return count() == 0 ? Double.NaN : lossSum() / count();
    }
}
