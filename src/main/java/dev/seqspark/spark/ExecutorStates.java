package dev.seqspark.spark;

import dev.seqspark.train.ShardState;
import java.util.HashMap;
import java.util.Map;

/**
 * The shards' states (optimizer moments, hidden state) kept in an executor JVM between the rounds of an epoch: what
 * lets a round send only weights. A shard's state after round r of epoch e is put here by the task that trained it
 * and read by its task of round r + 1, which Spark runs on the same executor (the shard's cached data is there).
 * Only rounds r and r − 1 are kept, so a retried task still finds what it started from. Nothing here is needed for
 * the results to be right: a task that finds no state (its executor was lost, or the task ran elsewhere) replays
 * its shard's epoch from the start ({@link SparkWorkers}), which gives the same bits; this only saves that work.
 */
final class ExecutorStates {
    private static String run;
    private static int epoch = -1;
    private static final Map<Long, ShardState> STATES = new HashMap<>();

    private ExecutorStates() {}

    private static long key(int round, int shard) {
        return ((long) round << 32) | shard;
    }

    /** Shard {@code shard}'s state after round {@code round} of {@code epoch} of run {@code runId}, or null. */
    static synchronized ShardState get(String runId, int epoch, int round, int shard) {
        return runId.equals(run) && epoch == ExecutorStates.epoch ? STATES.get(key(round, shard)) : null;
    }

    /** Keeps {@code state} as the shard's after {@code round}; forgets its rounds before the last one, and other epochs. */
    static synchronized void put(String runId, int epoch, int round, int shard, ShardState state) {
        if (!runId.equals(run) || epoch != ExecutorStates.epoch) {
            STATES.clear();
            run = runId;
            ExecutorStates.epoch = epoch;
        }
        STATES.put(key(round, shard), state);
        STATES.remove(key(round - 2, shard));
    }

    /** Forgets every state, as a lost executor would (for the test that the replay gives the same bits). */
    static synchronized void forgetAll() {
        STATES.clear();
    }
}
