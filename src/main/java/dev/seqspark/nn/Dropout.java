package dev.seqspark.nn;

import java.util.SplittableRandom;

/** Inverted dropout as torch.nn.Dropout applies it in training: zero with probability p, else scale by 1/(1−p). */
final class Dropout {
    private Dropout() {}

    /** {@code out[i] = in[i] · scale[i]}, drawing each {@code scale[i]} ∈ {0, 1/(1−p)} from {@code rng}. */
    static void apply(double p, SplittableRandom rng, float[] in, float[] out, float[] scale, int n) {
        float keep = (float) (1.0 / (1.0 - p));
        for (int i = 0; i < n; i++) {
            float s = rng.nextDouble() < p ? 0f : keep;
            scale[i] = s;
            out[i] = in[i] * s;
        }
    }
}
