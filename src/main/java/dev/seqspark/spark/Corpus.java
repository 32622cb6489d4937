package dev.seqspark.spark;

import dev.seqspark.text.Vocab;
import dev.seqspark.train.Shard;
import org.apache.spark.api.java.JavaRDD;

/**
 * A task's data read by Spark, encoded on the executors and cut into W shards cached there for the whole run: a
 * language model's token stream ({@link ShardedCorpus}) or a classifier's records ({@link ClassifierCorpus}).
 * The driver holds only the figures.
 */
public interface Corpus<S extends Shard> extends AutoCloseable {
    /** The W cached shards, one element per partition, in shard order. */
    JavaRDD<S> shards();

    int workers();

    /** Shard k's size in what its task's batches count: tokens or records. */
    long shardSize(int k);

    /** Whether any shard holds validation data. */
    boolean hasValidation();

    Vocab vocab();

    /** One line on what was read: sizes, vocabulary (and classes). */
    String describe(String name);

    @Override
    void close();
}
