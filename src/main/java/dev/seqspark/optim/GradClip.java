package dev.seqspark.optim;

import dev.seqspark.nn.Blas;

/** torch.nn.utils.clip_grad_norm_ over all parameters at once (the flat gradient array). */
public final class GradClip {
    private GradClip() {}

    /** The L2 norm of the whole gradient. */
    public static double globalNorm(float[] grads) {
        return Math.sqrt(Blas.sumOfSquares(grads));
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
