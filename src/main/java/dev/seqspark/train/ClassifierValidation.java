package dev.seqspark.train;

/**
 * What classification {@link Workers} add to {@link Workers#validate}: that call returns the validation
 * cross-entropy as an {@link Evaluator.Loss} (Σ loss, records), as {@link TrainingLoop} needs it; the same pass's
 * class counts (accuracy, macro-F1, confusion matrix) are kept here for the listener.
 */
public interface ClassifierValidation {
    /** The metrics of the last {@link Workers#validate} call (empty before the first). */
    ClassMetrics lastValidation();
}
