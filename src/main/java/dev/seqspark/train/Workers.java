package dev.seqspark.train;

import java.util.Map;

/**
 * Where the shards are trained: in this JVM ({@link LocalWorkers}) or on Spark executors
 * (dev.seqspark.spark.SparkWorkers). Shard k of W holds tokens [⌊k·N/W⌋, ⌊(k+1)·N/W⌋) of the training stream.
 */
public interface Workers extends AutoCloseable {

    /** W, the number of shards. */
    int count();

    /** Shards that can train at the same time (task slots); W when all run at once. */
    default int slots() {
        return count();
    }

    /** Batches each shard's layout has in {@code epoch}. */
    int[] batchesPerShard(int epoch);

    /**
     * Every shard trains batches [fromBatch, fromBatch + maxBatches) of its epoch layout (maxBatches ≤ 0: to
     * the end) from {@code state} and its own carried hidden state ({@code carried.get(k)}, absent: zeros).
     * Returns the sum of their results; {@code carried} is updated in place with each shard's new hidden state.
     */
    RoundSum train(ModelState state, Map<Integer, HiddenState> carried, int epoch, int fromBatch, int maxBatches);

    /** Validation loss of {@code weights} (zero tokens when there is no validation stream). */
    Evaluator.Loss validate(float[] weights);

    /** Training tokens in all shards. */
    long trainingTokens();

    @Override
    default void close() {}
}
