package dev.seqspark.train;

import java.nio.FloatBuffer;

/**
 * The sum over shards of one round's results, as the driver needs them for the outer update: Σ b_k·w_k in double
 * (b_k = batches shard k trained, w_k its weights; {@link ShardSum}: the same bits whatever blocks of shards were
 * summed first), Σ b_k, loss, examples and tokens (added in shard order), and how long the slowest shard trained.
 * The average Σ b_k·w_k / Σ b_k in double returns one worker's float weights exactly, so a run with one worker is
 * bit-for-bit the shard trainer's.
 */
public final class RoundSum {
    private final ShardSum weights;
    long batches;
    double lossSum;
    long examples;
    long tokens;
    boolean finite = true;
    double maxTaskSeconds;
    double sumTaskSeconds;

    /** The sum of a round of {@code shards} shards. */
    public RoundSum(int shards) {
        this.weights = new ShardSum(shards);
    }

    /** Adds shard {@code shard}'s result, weights and figures; {@code seconds}: how long its training took. */
    public RoundSum add(int shard, ShardTrainer.Result r, double seconds) {
        addWeights(ShardSum.leaf(shard, FloatBuffer.wrap(r.state().weights()), r.batches()));
        return addFigures(r.batches(), r.lossSum(), r.examples(), r.tokens(), r.finite(), seconds);
    }

    /** Adds a node of the weights' sum: a shard's leaf, or a block of shards' sum. */
    public RoundSum addWeights(ShardSum.Node node) {
        weights.add(node);
        return this;
    }

    /**
     * Adds the next shard's figures, in shard order (a non-finite loss always counts, even without a batch);
     * {@code seconds}: how long its training took.
     */
    public RoundSum addFigures(int shardBatches, double shardLossSum, long shardExamples, long shardTokens,
                               boolean shardFinite, double seconds) {
        finite &= shardFinite;
        maxTaskSeconds = Math.max(maxTaskSeconds, seconds);
        sumTaskSeconds += seconds;
        if (shardBatches == 0) {
            return this;
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
        double[] sum = weights.total();
        float[] w = new float[sum.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (sum[i] / batches);
            finite &= Float.isFinite(w[i]);
        }
        return new ModelState(w, global.optimizerState(), global.optimizerSteps(), global.blockMomentum());
    }

    /** Σ b_k·w_k, in double; null when no shard trained a batch. */
    double[] weightSum() {
        return weights.total();
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
