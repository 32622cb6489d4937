package dev.seqspark.train;

/**
 * Seeds derived from the run's seed and a position (epoch, shard, batch…), so that any piece of work
 * re-run — a retried Spark task, a resumed run — draws exactly the same random numbers.
 */
public final class Seeds {
    private Seeds() {}

    /** A well-mixed 64-bit seed from {@code seed} and the given coordinates (SplitMix64 finaliser per step). */
    public static long derive(long seed, long... coordinates) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        for (long c : coordinates) {
            h = mix(h + 0x9E3779B97F4A7C15L * (c + 1));
        }
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
