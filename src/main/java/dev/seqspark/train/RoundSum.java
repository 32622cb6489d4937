package dev.seqspark.train;

import java.nio.FloatBuffer;

/**
 * The sum over shards of one round's results, as the driver needs them for the outer update: Σ b_k·w_k in double
 * (b_k = batches shard k trained, w_k its weights), Σ b_k, loss, examples and tokens, and how long the slowest
 * shard trained. Added in shard order, whatever order the shards finished in, so a run gives the same bits; the
 * average Σ b_k·w_k / Σ b_k in double returns one worker's float weights exactly, so a run with one worker is
 * bit-for-bit the shard trainer's.
 */
public final class RoundSum {
    double[] weights;
    long batches;
    double lossSum;
    long examples;
    long tokens;
    boolean finite = true;
    double maxTaskSeconds;
    double sumTaskSeconds;

    /**
     * Adds the next shard's result (nothing when it trained no batch, but a non-finite loss always counts);
     * {@code seconds}: how long its training took.
     */
    public RoundSum add(ShardTrainer.Result r, double seconds) {
        return add(FloatBuffer.wrap(r.state().weights()), r.batches(), r.lossSum(), r.examples(), r.tokens(), r.finite(),
                seconds);
    }

    /** As {@link #add(ShardTrainer.Result, double)}, from the parts of a result. */
    public RoundSum add(FloatBuffer w, int shardBatches, double shardLossSum, long shardExamples, long shardTokens,
                        boolean shardFinite, double seconds) {
        finite &= shardFinite;
        maxTaskSeconds = Math.max(maxTaskSeconds, seconds);
        sumTaskSeconds += seconds;
        if (shardBatches == 0) {
            return this;
        }
        if (weights == null) {
            weights = new double[w.remaining()];
        }
        double b = shardBatches;
        for (int i = 0; i < weights.length; i++) {
            weights[i] += b * w.get(i);
        }
        batches += shardBatches;
        lossSum += shardLossSum;
        examples += shardExamples;
        tokens += shardTokens;
        return this;
    }

    /**
     * {@code global} with the batch-weighted average weights; {@code global} itself when no shard trained a batch.
     * Weights that overflowed make {@link #finite()} false, as a non-finite loss does.
     */
    public ModelState average(ModelState global) {
        if (batches == 0) {
            return global;
        }
        float[] w = new float[weights.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (weights[i] / batches);
            finite &= Float.isFinite(w[i]);
        }
        return new ModelState(w, global.optimizerState(), global.optimizerSteps(), global.blockMomentum());
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

    /** The slowest shard's training time in this round. */
    public double slowestSeconds() {
        return maxTaskSeconds;
    }

    /**
     * The least wall time the round's training could have taken on {@code slots} parallel task slots: the
     * slowest shard, or all shards' time spread evenly over the slots, whichever is longer.
     */
    public double computeSeconds(int slots) {
        return Math.max(maxTaskSeconds, sumTaskSeconds / Math.max(1, slots));
    }
}
