package dev.seqspark.spark;

import dev.seqspark.text.Vocab;
import dev.seqspark.train.Shard;
import org.apache.spark.api.java.JavaRDD;

/**
 * A task's data read by Spark, encoded on the executors and cut into W shards cached there for the whole run: a
 * language model's token stream ({@link ShardedCorpus}) or a classifier's records ({@link ClassifierCorpus}).
 * The driver holds only the figures.
 */
public abstract class Corpus<S extends Shard> implements AutoCloseable {
    /** The vocabulary every shard is encoded with. */
    public final Vocab vocab;
    private final JavaRDD<S> shards;
    private final long[] shardSizes;

    /** {@code shardSizes[k]}: shard k's size in what its task's batches count, tokens or records. */
    Corpus(Vocab vocab, JavaRDD<S> shards, long[] shardSizes) {
        this.vocab = vocab;
        this.shards = shards;
        this.shardSizes = shardSizes;
    }

    /** The W cached shards, one element per partition, in shard order. */
    public JavaRDD<S> shards() {
        return shards;
    }

    /** W. */
    public int workers() {
        return shardSizes.length;
    }

    /** Shard k's size in what its task's batches count: tokens or records. */
    public long shardSize(int k) {
        return shardSizes[k];
    }

    /** Whether any shard holds validation data. */
    public abstract boolean hasValidation();

    /** One line on what was read: sizes, vocabulary (and classes). */
    public abstract String describe(String name);

    @Override
    public void close() {
        shards.unpersist(false);
    }
}
