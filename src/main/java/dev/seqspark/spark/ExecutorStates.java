package dev.seqspark.spark;

import dev.seqspark.train.ShardState;
import java.util.HashMap;
import java.util.Map;

/**
 * The shards' states (optimizer moments, hidden state) kept in an executor JVM between the rounds of an epoch: what
 * lets a round send only weights. A shard's state after round r of epoch e is put here by the task that trained it
 * and read by its task of round r + 1, which Spark runs on the same executor (the shard's cached data is there).
 * Only the last three rounds are kept, so a retried task still finds what it started from. Nothing here is needed for
 * the results to be right: a task that finds no state (its executor was lost, or the task ran elsewhere) replays
 * its shard's epoch from the start ({@link SparkWorkers}), which gives the same bits; this only saves that work.
 */
final class ExecutorStates {
    private static String run;
    private static int epoch = -1;
    private static final Map<Long, ShardState> STATES = new HashMap<>();
    private static final java.util.Set<Long> TRAINING = new java.util.HashSet<>();

    private ExecutorStates() {}

    private static long key(int round, int shard) {
        return ((long) round << 32) | shard;
    }

    /** Switches to run {@code runId}'s {@code epoch}, forgetting every other's states. */
    private static void use(String runId, int epoch) {
        if (!runId.equals(run) || epoch != ExecutorStates.epoch) {
            STATES.clear();
            TRAINING.clear();
            run = runId;
            ExecutorStates.epoch = epoch;
        }
    }

    /** Shard {@code shard}'s state after round {@code round} of {@code epoch} of run {@code runId}, or null. */
    static synchronized ShardState get(String runId, int epoch, int round, int shard) {
        return runId.equals(run) && epoch == ExecutorStates.epoch ? STATES.get(key(round, shard)) : null;
    }

    /**
     * As {@link #get}, but when that round of the shard is training in this JVM right now, waits for it: in local
     * mode the task of a late round can start on one core while its shard's previous round trains on another.
     */
    static synchronized ShardState await(String runId, int epoch, int round, int shard) {
        while (true) {
            ShardState s = get(runId, epoch, round, shard);
            if (s != null || !runId.equals(run) || epoch != ExecutorStates.epoch
                    || !TRAINING.contains(key(round, shard))) {
                return s;
            }
            try {
                ExecutorStates.class.wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** Marks round {@code round} of the shard as training in this JVM. */
    static synchronized void begin(String runId, int epoch, int round, int shard) {
        use(runId, epoch);
        TRAINING.add(key(round, shard));
    }

    /** Ends {@link #begin}'s mark, whether the round kept a state or failed; wakes whoever waits for it. */
    static synchronized void end(String runId, int epoch, int round, int shard) {
        if (runId.equals(run) && epoch == ExecutorStates.epoch) {
            TRAINING.remove(key(round, shard));
        }
        ExecutorStates.class.notifyAll();
    }

    /**
     * Keeps {@code state} as the shard's after {@code round}; forgets its rounds before the last two (a retried task
     * of the round before, under way beside this one's successor, still finds what it started from), and other
     * epochs.
     */
    static synchronized void put(String runId, int epoch, int round, int shard, ShardState state) {
        use(runId, epoch);
        STATES.put(key(round, shard), state);
        STATES.remove(key(round - 3, shard));
        ExecutorStates.class.notifyAll();
    }

    /** Forgets every state, as a lost executor would (for the test that the replay gives the same bits). */
    static synchronized void forgetAll() {
        STATES.clear();
    }
}
