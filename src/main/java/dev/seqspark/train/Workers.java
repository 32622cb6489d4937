package dev.seqspark.train;

/**
 * Where the shards of a task are trained: in this JVM ({@link LocalWorkers}) or on Spark executors
 * (dev.seqspark.spark.SparkWorkers), which must equal it bit for bit. An epoch is {@link #beginEpoch}, rounds
 * ({@link #round}), {@link #endEpoch}: within it every shard keeps its own optimizer state and carried state
 * ({@link ShardState}), and only weights travel.
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

    /** Starts {@code epoch}: every shard takes {@code global}'s optimizer state, with nothing carried. */
    void beginEpoch(int epoch, ModelState global);

    /**
     * One round: every shard trains batches [fromBatch, fromBatch + maxBatches) of its epoch layout (maxBatches ≤ 0:
     * to the end) from {@code start} and its own optimizer and carried state; returns their results summed.
     */
    RoundSum round(float[] start, int fromBatch, int maxBatches);

    /** Ends the epoch: {@code global} with the shards' optimizer states averaged ({@link OptimizerSum}). */
    ModelState endEpoch(ModelState global);

    /** {@code weights} evaluated on every shard's validation data, merged in shard order. */
    Validation validate(float[] weights);

    @Override
    default void close() {}
}
