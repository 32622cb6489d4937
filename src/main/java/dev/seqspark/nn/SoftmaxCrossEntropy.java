package dev.seqspark.nn;

/**
 * Softmax cross-entropy over rows of logits, mean over the rows that count (torch.nn.functional.cross_entropy
 * with the padded positions left out), fused with its gradient.
 */
public final class SoftmaxCrossEntropy {
    private static final Kernels K = Kernels.get();
    private SoftmaxCrossEntropy() {}

    /**
     * Mean of −log softmax(logits[r])[targets[r]] over rows with {@code mask == null || mask[r]}. When
     * {@code dLogits} is given it receives (softmax − onehot(target)) / count for those rows and 0 for the
     * others. Returns the mean loss (0 when no row counts); {@link #sumLoss} gives the unnormalised sum.
     */
    public static double forwardBackward(float[] logits, int[] targets, boolean[] mask, int rows, int classes,
                                         float[] dLogits) {
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (mask == null || mask[r]) {
                count++;
            }
        }
        if (count == 0) {
            if (dLogits != null) {
                java.util.Arrays.fill(dLogits, 0, rows * classes, 0f);
            }
            return 0.0;
        }
        double sum = 0;
        float inv = 1f / count;
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            if (mask != null && !mask[r]) {
                if (dLogits != null) {
                    java.util.Arrays.fill(dLogits, o, o + classes, 0f);
                }
                continue;
            }
            int y = checkTarget(targets[r], classes);
            if (dLogits == null) {
                sum += logSumExp(logits, o, classes) - logits[o + y];
                continue;
            }
            // exp once per logit: the shifted exponentials are kept in dLogits, then normalised.
            float max = K.max(logits, o, classes);
            double z = K.expShifted(logits, o, classes, max, dLogits);
            sum += max + Math.log(z) - logits[o + y];
            K.scale(dLogits, o, classes, (float) (inv / z));
            dLogits[o + y] -= inv;
        }
        return sum / count;
    }

    /**
     * torch.nn.functional.cross_entropy(logits, targets, weight=classWeights) over all {@code rows}: the weighted
     * mean Σ w[y_r]·(−log p_r(y_r)) / Σ w[y_r]; {@code classWeights} null is the plain mean. When {@code dLogits}
     * is given it receives w[y_r]·(softmax − onehot(y_r)) / Σ w[y_r]. Returns 0 (and zero gradients) when the
     * weights of the rows' targets sum to 0.
     */
    public static double forwardBackwardWeighted(float[] logits, int[] targets, float[] classWeights, int rows,
                                                 int classes, float[] dLogits) {
        if (classWeights == null) {
            return forwardBackward(logits, targets, null, rows, classes, dLogits);
        }
        if (classWeights.length != classes) {
            throw new IllegalArgumentException(classWeights.length + " class weights for " + classes + " classes");
        }
        double total = 0;
        for (int r = 0; r < rows; r++) {
            total += classWeights[checkTarget(targets[r], classes)];
        }
        if (!(total > 0)) {
            if (dLogits != null) {
                java.util.Arrays.fill(dLogits, 0, rows * classes, 0f);
            }
            return 0.0;
        }
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            int y = targets[r];
            float wy = classWeights[y];
            if (dLogits == null) {
                sum += wy * (logSumExp(logits, o, classes) - logits[o + y]);
                continue;
            }
            float max = K.max(logits, o, classes);
            double z = K.expShifted(logits, o, classes, max, dLogits);
            sum += wy * (max + Math.log(z) - logits[o + y]);
            K.scale(dLogits, o, classes, (float) (wy / total / z));
            dLogits[o + y] -= (float) (wy / total);
        }
        return sum / total;
    }

    /** Σ over counted rows of −log p(target); for perplexity and scoring, where the count is kept apart. */
    public static double sumLoss(float[] logits, int[] targets, boolean[] mask, int rows, int classes) {
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            if (mask != null && !mask[r]) {
                continue;
            }
            int o = r * classes;
            int y = checkTarget(targets[r], classes);
            sum += logSumExp(logits, o, classes) - logits[o + y];
        }
        return sum;
    }

    /** log Σ_j exp(row[j]), shifted by the row's maximum so that nothing overflows. */
    public static double logSumExp(float[] logits, int off, int classes) {
        float max = K.max(logits, off, classes);
        return max + Math.log(K.expShifted(logits, off, classes, max, null));
    }

    private static int checkTarget(int y, int classes) {
        if (y < 0 || y >= classes) {
            throw new IllegalArgumentException("target " + y + " outside [0, " + classes + ")");
        }
        return y;
    }
}
