package dev.seqspark.train;

import java.util.Arrays;

/**
 * The sum over shards of one round's results, as the driver needs them to average: Σ b_k·w_k and
 * Σ b_k·s_k in double (b_k = batches shard k trained), Σ b_k, the largest optimizer step count, loss,
 * examples and tokens, and what each shard carries into its next round. Averaging Σ b_k·w_k / Σ b_k in double returns one worker's float weights exactly, so a run with
 * one worker is bit-for-bit the shard trainer's. Merged pairwise (Spark's treeAggregate), never W at once.
 */
public final class RoundSum implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    double[] weights;
    double[] optimizerState;
    long batches;
    long maxSteps;
    double lossSum;
    long examples;
    long tokens;
    boolean finite = true;
    double maxTaskSeconds;
    double sumTaskSeconds;
    final java.util.TreeMap<Integer, java.io.Serializable> carried = new java.util.TreeMap<>();

    /**
     * Adds shard {@code shard}'s result (nothing when it trained no batch, but non-finite losses always
     * count); {@code seconds}: how long its training took, for the overhead figure.
     */
    public RoundSum add(int shard, ShardTrainer.Result r, double seconds) {
        finite &= r.finite();
        maxTaskSeconds = Math.max(maxTaskSeconds, seconds);
        sumTaskSeconds += seconds;
        if (r.batches() == 0) {
            return this;
        }
        if (r.carried() != null) {
            carried.put(shard, r.carried());
        }
        float[] w = r.state().weights();
        float[] s = r.state().optimizerState();
        if (weights == null) {
            weights = new double[w.length];
            optimizerState = new double[s.length];
        }
        double b = r.batches();
        for (int i = 0; i < w.length; i++) {
            weights[i] += b * w[i];
        }
        for (int i = 0; i < s.length; i++) {
            optimizerState[i] += b * s[i];
        }
        batches += r.batches();
        maxSteps = Math.max(maxSteps, r.state().optimizerSteps());
        lossSum += r.lossSum();
        examples += r.examples();
        tokens += r.tokens();
        return this;
    }

    /** Combines two partial sums (either may be empty). */
    public RoundSum merge(RoundSum o) {
        finite &= o.finite;
        maxTaskSeconds = Math.max(maxTaskSeconds, o.maxTaskSeconds);
        sumTaskSeconds += o.sumTaskSeconds;
        carried.putAll(o.carried);
        if (o.weights == null) {
            return this;
        }
        if (weights == null) {
            weights = o.weights;
            optimizerState = o.optimizerState;
        } else {
            for (int i = 0; i < weights.length; i++) {
                weights[i] += o.weights[i];
            }
            for (int i = 0; i < optimizerState.length; i++) {
                optimizerState[i] += o.optimizerState[i];
            }
        }
        batches += o.batches;
        maxSteps = Math.max(maxSteps, o.maxSteps);
        lossSum += o.lossSum;
        examples += o.examples;
        tokens += o.tokens;
        return this;
    }

    /**
     * The batch-weighted average state; {@code fallback} when no shard trained a batch. Weights that
     * overflowed make {@link #finite()} false, as a non-finite loss does.
     */
    public ModelState average(ModelState fallback) {
        if (batches == 0) {
            return fallback;
        }
        float[] w = new float[weights.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (weights[i] / batches);
            finite &= Float.isFinite(w[i]);
        }
        float[] s = new float[optimizerState.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (optimizerState[i] / batches);
        }
        return new ModelState(w, s, maxSteps);
    }

    /** Weight i of the batch-weighted mean, in double (no rounding to float). */
    double meanWeight(int i) {
        return weights[i] / batches;
    }

    public long batches() {
        return batches;
    }

    public double lossSum() {
        return lossSum;
    }

    /** Predicted tokens, or records. */
    public long examples() {
        return examples;
    }

    public long tokens() {
        return tokens;
    }

    public boolean finite() {
        return finite;
    }

    /**
     * The least wall time the round's training could have taken on {@code slots} parallel task slots: the
     * slowest shard, or all shards' time spread evenly over the slots, whichever is longer.
     */
    public double computeSeconds(int slots) {
        return Math.max(maxTaskSeconds, sumTaskSeconds / Math.max(1, slots));
    }

    /** What each shard carries into its next round (shards that trained no batch, or carry nothing, are absent). */
    public java.util.Map<Integer, java.io.Serializable> carried() {
        return carried;
    }

    @Override
    public String toString() {
        return "RoundSum[batches=" + batches + ", examples=" + examples + ", loss=" + lossSum + ", weights="
                + (weights == null ? "none" : Arrays.hashCode(weights)) + "]";
    }
}
