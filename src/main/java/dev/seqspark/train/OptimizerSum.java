package dev.seqspark.train;

/**
 * The shards' optimizer states at an epoch's end, summed in shard order: Σ b_k·s_k in double (b_k = batches shard k
 * trained in the epoch), Σ b_k and the largest step count. Their average is where every shard starts the next epoch
 * and what a checkpoint keeps; with one shard it is that shard's state, bit for bit.
 */
public final class OptimizerSum {
    private double[] sum;
    private long batches;
    private long maxSteps;

    /** Adds shard k's state (added in shard order by the caller). */
    public OptimizerSum add(ShardState s) {
        maxSteps = Math.max(maxSteps, s.optimizerSteps());
        if (s.batches() == 0 || s.optimizerState().length == 0) {
            return this;
        }
        float[] v = s.optimizerState();
        if (sum == null) {
            sum = new double[v.length];
        }
        for (int i = 0; i < v.length; i++) {
            sum[i] += (double) s.batches() * v[i];
        }
        batches += s.batches();
        return this;
    }

    /** The batch-weighted average state and the largest step count; {@code fallback}'s state when nothing trained. */
    public ModelState average(ModelState fallback) {
        float[] s = fallback.optimizerState();
        if (sum != null) {
            s = new float[sum.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) (sum[i] / batches);
            }
        }
        return new ModelState(fallback.weights(), s, Math.max(maxSteps, fallback.optimizerSteps()),
                fallback.blockMomentum());
    }
}
