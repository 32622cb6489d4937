package dev.seqspark.spark;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * Shard trainers (of either task) kept alive in an executor JVM between the rounds of one training run, so that a
 * round does not rebuild a trainer and its buffers (tens of MB for a large model) for every task. A trainer is taken
 * for a shard and given back after it, so two tasks never share one at a time; any shard may take any trainer, so an
 * executor holds as many as it runs tasks at once, and a task that trains several shards in turn keeps one trainer's
 * buffers in cache. Results never depend on reuse (a trainer keeps no state between calls: the local workers run every
 * shard on one trainer and equal this). Soft references: under memory pressure the pool empties and tasks build
 * trainers afresh. One run's trainers are all of one type.
 */
final class ExecutorTrainers {
    private static String run;
    private static final Deque<SoftReference<Object>> POOL = new ArrayDeque<>();

    private ExecutorTrainers() {}

    /** A trainer for run {@code runId}: a pooled one, or {@code create}'s. A new run empties the pool. */
    @SuppressWarnings("unchecked")
    static <T> T take(String runId, Supplier<T> create) {
        synchronized (POOL) {
            if (!runId.equals(run)) {
                POOL.clear();
                run = runId;
            }
            while (!POOL.isEmpty()) {
                Object t = POOL.pop().get();
                if (t != null) {
                    return (T) t;
                }
            }
        }
        return create.get();
    }

    /** Gives a trainer back after its task (only for the run that is pooled now). */
    static void give(String runId, Object trainer) {
        synchronized (POOL) {
            if (runId.equals(run)) {
                POOL.push(new SoftReference<>(trainer));
            }
        }
    }
}
