package dev.seqspark.train;

/**
 * A classifier's shard: its training records and its part of the validation records (record i of the input goes
 * to shard i mod W), and what encoding them counted.
 */
public record RecordShard(int index, LabeledRecords train, LabeledRecords valid, long emptySkipped, long truncated)
        implements Shard {

    /** The figures the driver needs, without the records. */
    public Stats stats(int classes) {
        long[] perClass = new long[classes];
        for (int l : train.labels()) {
            perClass[l]++;
        }
        return new Stats(index, train.size(), valid.size(), train.tokenCount(), valid.tokenCount(), emptySkipped,
                truncated, perClass);
    }

    public record Stats(int index, long trainRecords, long validRecords, long trainTokens, long validTokens,
                        long emptySkipped, long truncated, long[] trainPerClass) implements java.io.Serializable {}
}
