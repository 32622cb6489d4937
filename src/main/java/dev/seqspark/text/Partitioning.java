package dev.seqspark.text;

import java.util.Locale;

/** How a token stream is cut into minibatches (d2l's two iterators). */
public enum Partitioning {
    /** seq_data_iter_sequential: consecutive batches continue each row, so hidden state carries over. */
    SEQUENTIAL,
    /** seq_data_iter_random: subsequences in random order; the state starts from zero for each batch. */
    RANDOM;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Partitioning fromId(String id) {
        String key = id == null ? "" : id.trim().toLowerCase(Locale.ROOT);
        for (Partitioning p : values()) {
            if (p.id().equals(key)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown partitioning '" + id + "'; expected sequential or random");
    }
}
