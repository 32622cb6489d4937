package dev.seqspark.train;

/**
 * Encoded records of a classification task: each record's token ids (at least one) and its class index. One
 * shard's training or validation records, cached on an executor.
 */
public record LabeledRecords(int[][] tokens, int[] labels) implements java.io.Serializable {
    public LabeledRecords {
        if (tokens.length != labels.length) {
            throw new IllegalArgumentException(tokens.length + " records but " + labels.length + " labels");
        }
    }

    public static LabeledRecords empty() {
        return new LabeledRecords(new int[0][], new int[0]);
    }

    /** The records of {@code parts}, in order. */
    public static LabeledRecords concat(java.util.List<LabeledRecords> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        int n = parts.stream().mapToInt(LabeledRecords::size).sum();
        int[][] tokens = new int[n][];
        int[] labels = new int[n];
        int at = 0;
        for (LabeledRecords p : parts) {
            System.arraycopy(p.tokens, 0, tokens, at, p.size());
            System.arraycopy(p.labels, 0, labels, at, p.size());
            at += p.size();
        }
        return new LabeledRecords(tokens, labels);
    }

    public int size() {
        return labels.length;
    }

    /** Σ of the records' lengths. */
    public long tokenCount() {
        long n = 0;
        for (int[] t : tokens) {
            n += t.length;
        }
        return n;
    }
}
