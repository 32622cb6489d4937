package dev.seqspark.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Text generation as d2l's predict_ch8: warm the state up on the prefix, then emit tokens one at a time,
 * each fed back as the next input. Greedy (temperature 0) or sampled from softmax(logits / temperature),
 * optionally restricted to the top k tokens, from a seeded generator.
 */
public final class Generator {

    /** temperature 0: argmax; else sample; topK 0: all tokens. */
    public record Sampling(double temperature, int topK, long seed) {
        public Sampling {
            if (!(temperature >= 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be a non-negative number, got " + temperature);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("top-k must be non-negative, got " + topK);
            }
        }

        public static Sampling greedy() {
            return new Sampling(0, 0, 0);
        }
    }

    private Generator() {}

    /** The prefix followed by {@code n} generated token ids. */
    public static int[] generate(LanguageModel lm, int[] prefix, int n, Sampling sampling) {
        if (prefix.length == 0) {
            throw new IllegalArgumentException("the prefix must have at least one token");
        }
        if (n < 0) {
            throw new IllegalArgumentException("length must be non-negative, got " + n);
        }
        int vocab = lm.spec().vocabSize();
        LanguageModel.State state = new LanguageModel.State(lm.spec(), 1);
        if (prefix.length > 1) {
            lm.forward(Arrays.copyOf(prefix, prefix.length - 1), prefix.length - 1, 1, null, state, null);
        }
        int[] out = Arrays.copyOf(prefix, prefix.length + n);
        SplittableRandom rng = new SplittableRandom(sampling.seed());
        int[] in = new int[1];
        for (int i = prefix.length; i < out.length; i++) {
            in[0] = out[i - 1];
            float[] logits = lm.forward(in, 1, 1, null, state, null);
            out[i] = pick(logits, vocab, sampling, rng);
        }
        return out;
    }

    static int pick(float[] logits, int vocab, Sampling s, SplittableRandom rng) {
        if (s.temperature() == 0) {
            int best = 0;
            for (int j = 1; j < vocab; j++) {
                if (logits[j] > logits[best]) {
                    best = j;
                }
            }
            return best;
        }
        float cutoff = Float.NEGATIVE_INFINITY;
        if (s.topK() > 0 && s.topK() < vocab) {
            float[] sorted = Arrays.copyOf(logits, vocab);
            Arrays.sort(sorted);
            cutoff = sorted[vocab - s.topK()];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            max = Math.max(max, logits[j]);
        }
        double[] p = new double[vocab];
        double z = 0;
        for (int j = 0; j < vocab; j++) {
            p[j] = logits[j] < cutoff ? 0 : Math.exp((logits[j] - max) / s.temperature());
            z += p[j];
        }
        double u = rng.nextDouble() * z;
        for (int j = 0; j < vocab; j++) {
            u -= p[j];
            if (u < 0) {
                return j;
            }
        }
        return vocab - 1;
    }
}
