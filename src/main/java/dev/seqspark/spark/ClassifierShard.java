package dev.seqspark.spark;

import dev.seqspark.train.LabeledRecords;

/**
 * One worker's records of a classification task, cached on an executor: its training records and its part of
 * the validation records (record i of the input goes to shard i mod W), and what encoding them counted.
 */
record ClassifierShard(int index, LabeledRecords train, LabeledRecords valid, long emptySkipped, long truncated)
        implements java.io.Serializable {

    /** The figures the driver needs, without the records. */
    Stats stats(int classes) {
        long[] perClass = new long[classes];
        for (int l : train.labels()) {
            perClass[l]++;
        }
        return new Stats(index, train.size(), valid.size(), train.tokenCount(), valid.tokenCount(), emptySkipped,
                truncated, perClass);
    }

    record Stats(int index, long trainRecords, long validRecords, long trainTokens, long validTokens, long emptySkipped,
                 long truncated, long[] trainPerClass) implements java.io.Serializable {}
}
