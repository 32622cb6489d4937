package dev.seqspark.train;

import java.io.Serializable;
import java.util.Map;

/**
 * Where the shards of a task are trained: in this JVM ({@link LocalWorkers}) or on Spark executors
 * (dev.seqspark.spark.SparkWorkers), which must equal it bit for bit.
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
     * the end) from {@code state} and what it carried out of its last round ({@code carried.get(k)}, absent: none).
     * Returns the sum of their results; {@code carried} is updated in place.
     */
    RoundSum train(ModelState state, Map<Integer, Serializable> carried, int epoch, int fromBatch, int maxBatches);

    /** {@code weights} evaluated on every shard's validation data, merged in shard order. */
    Validation validate(float[] weights);

    @Override
    default void close() {}
}
