package dev.seqspark.optim;

/** torch.nn.utils.clip_grad_norm_ over all parameters at once (the flat gradient array). */
public final class GradClip {
    private GradClip() {}

    /** The L2 norm of the whole gradient (accumulated in double). */
    public static double globalNorm(float[] grads) {
        double sum = 0;
        for (float g : grads) {
            sum += (double) g * g;
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales {@code grads} by max_norm / (norm + 1e-6) when that is below 1, as PyTorch does, and returns
     * the norm before clipping. {@code maxNorm} ≤ 0 or infinite turns clipping off (the norm is still returned).
     */
    public static double clipByGlobalNorm(float[] grads, double maxNorm) {
        double norm = globalNorm(grads);
        if (maxNorm > 0 && !Double.isInfinite(maxNorm)) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            if (coef < 1f) {
                for (int i = 0; i < grads.length; i++) {
                    grads[i] *= coef;
                }
            }
        }
        return norm;
    }
}
