package dev.seqspark.spark;

import dev.seqspark.nn.ModelSpec;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.TrainConfig;
import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Shard trainers kept alive in an executor JVM between the rounds of one training run, so that a round does
 * not rebuild a trainer and its buffers (tens of MB for a large model) for every task. A trainer is taken for
 * a task and given back after it, so two attempts of one shard never share one; results never depend on
 * reuse (a trainer keeps no state between calls: LocalWorkers runs every shard on one trainer and equals this).
 * Soft references: under memory pressure the pool empties and tasks build trainers afresh.
 */
final class ExecutorTrainers {
    private static String run;
    private static final Map<Integer, Deque<SoftReference<ShardTrainer>>> POOL = new HashMap<>();

    private ExecutorTrainers() {}

    /** A trainer for {@code shard} of run {@code runId}: a pooled one, or a new one. A new run empties the pool. */
    static ShardTrainer take(String runId, int shard, ModelSpec spec, TrainConfig cfg) {
        synchronized (POOL) {
            if (!runId.equals(run)) {
                POOL.clear();
                run = runId;
            }
            Deque<SoftReference<ShardTrainer>> q = POOL.get(shard);
            while (q != null && !q.isEmpty()) {
                ShardTrainer t = q.pop().get();
                if (t != null) {
                    return t;
                }
            }
        }
        return new ShardTrainer(spec, cfg);
    }

    /** Gives a trainer back after its task (only for the run that is pooled now). */
    static void give(String runId, int shard, ShardTrainer trainer) {
        synchronized (POOL) {
            if (runId.equals(run)) {
                POOL.computeIfAbsent(shard, k -> new ArrayDeque<>()).push(new SoftReference<>(trainer));
            }
        }
    }
}
