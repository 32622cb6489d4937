package dev.seqspark.train;

/** One worker's data, cached on an executor for the whole run: a task's {@link TokenShard} or {@link RecordShard}. */
public interface Shard extends java.io.Serializable {
    /** k in [0, W). */
    int index();
}
