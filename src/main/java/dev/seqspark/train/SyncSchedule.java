package dev.seqspark.train;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How many batches each worker trains between two combinations of the workers' models (a block of K), epoch by
 * epoch: K for epoch 1, 2, …, the last value for every later epoch; 0 means one round per epoch. Blocks that grow
 * as training settles start synchronous (fairseq's BMUF warm-up) and save rounds later.
 */
public record SyncSchedule(int[] perEpoch) implements java.io.Serializable {
    public SyncSchedule {
        if (perEpoch.length == 0 || Arrays.stream(perEpoch).anyMatch(k -> k < 0)) {
            throw new IllegalArgumentException("a sync schedule needs one or more batch counts >= 0");
        }
        perEpoch = perEpoch.clone();
    }

    /** K in every epoch. */
    public static SyncSchedule every(int k) {
        return new SyncSchedule(new int[] {k});
    }

    /** "K" or "K1,K2,…" (epoch by epoch, the last one for the rest). */
    public static SyncSchedule parse(String text) {
        try {
            return new SyncSchedule(Arrays.stream(text.split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a sync schedule is K or K1,K2,... (batches, >= 0), got '" + text + "'");
        }
    }

    /** K of epoch {@code epoch} (0-based). */
    public int batches(int epoch) {
        return perEpoch[Math.min(epoch, perEpoch.length - 1)];
    }

    /** "every 4 batches", "once per epoch", or "every 1 batch in epoch 1, 2 in epoch 2, 4 from epoch 3". */
    @Override
    public String toString() {
        if (perEpoch.length == 1) {
            return perEpoch[0] > 0 ? "every " + perEpoch[0] + " batches" : "once per epoch";
        }
        StringBuilder b = new StringBuilder("every ");
        for (int e = 0; e < perEpoch.length; e++) {
            String k = perEpoch[e] > 0 ? String.valueOf(perEpoch[e]) : "all";
            b.append(e > 0 ? ", " : "").append(k).append(e == 0 ? (perEpoch[e] == 1 ? " batch" : " batches") : "")
                    .append(e < perEpoch.length - 1 ? " in epoch " : " from epoch ").append(e + 1);
        }
        return b.toString();
    }

    /** The same form {@link #parse} reads. */
    public String id() {
        return Arrays.stream(perEpoch).mapToObj(String::valueOf).collect(Collectors.joining(","));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyncSchedule s && Arrays.equals(s.perEpoch, perEpoch);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(perEpoch);
    }
}
