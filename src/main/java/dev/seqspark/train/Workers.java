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

    /** A round under way. */
    interface Pending {
        /** Waits for the round; its results summed in shard order. */
        RoundSum await();
    }

    /**
     * Starts a round: every shard trains batches [fromBatch, fromBatch + maxBatches) of its epoch layout (maxBatches
     * ≤ 0: to the end) from {@code base} — or, when {@code late}, from {@code base} plus its own last round's move
     * ({@link ShardTrainer#round}) — and its own optimizer and carried state; each shard keeps its move for the next
     * round when {@code keepMove}. A late round may be started before the round before it has ended; rounds run in
     * the order they were started, each shard's after its last.
     */
    Pending start(float[] base, boolean late, boolean keepMove, int fromBatch, int maxBatches);

    /** A round on time, waited for. */
    default RoundSum round(float[] start, int fromBatch, int maxBatches) {
        return start(start, false, false, fromBatch, maxBatches).await();
    }

    /** Ends the epoch: {@code global} with the shards' optimizer states averaged ({@link OptimizerSum}). */
    ModelState endEpoch(ModelState global);

    /** {@code weights} evaluated on every shard's validation data, merged in shard order. */
    Validation validate(float[] weights);

    @Override
    default void close() {}
}
