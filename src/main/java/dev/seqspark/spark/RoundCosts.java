package dev.seqspark.spark;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.TaskInfo;

/**
 * Where the rounds of an epoch spend the time that is not training, for the run's summary line and the round-cost
 * model of docs/scale.md. The driver's side is timed by {@link SparkWorkers}: the broadcasts, and the wall and driver
 * process CPU time from the epoch's first round's start to its last round's end (rounds may overlap; on a cluster the
 * CPU time is the driver's own work: scheduling, receiving and summing the results, the outer updates; in local mode
 * it includes the training). The tasks' side is
 * read from Spark's listener events for the round jobs (marked by a local property): the wait from job submission to
 * a task's launch, the task's deserialization (wall and CPU time: on a machine shared by many executors the wall time
 * is mostly waiting for a core), and its result's serialization and fetch. Milliseconds, averaged over the rounds of
 * the epoch in progress (the last one, at the end of a run: the first one includes the JIT's warm-up); per-task
 * figures are each round's largest.
 */
final class RoundCosts extends SparkListener implements AutoCloseable {
    static final String ROUND_PROPERTY = "seqspark.round";
    private static final int LAUNCH_WAIT = 0;
    private static final int DESERIALIZE = 1;
    private static final int DESERIALIZE_CPU = 2;
    private static final int RESULT = 3;

    private final SparkContext sc;
    private final Map<Integer, Long> stageRound = new ConcurrentHashMap<>();
    private final Map<Long, Long> submitted = new ConcurrentHashMap<>();
    private final Map<Long, double[]> tasks = new ConcurrentHashMap<>();   // per round: the figures above, largest
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long next;
    private long ended;
    private long firstOfEpoch;
    private double broadcastMs;
    private double wallMs;
    private long wallAtStart;
    private double trainingMs;
    private final java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private double driverCpuMs;
    private double javaThreadsCpuMs;
    private long cpuAtStart;
    private long javaThreadsCpuAtStart;
    private long replayed;

    RoundCosts(SparkContext sc) {
        this.sc = sc;
        sc.addSparkListener(this);
    }

    @Override
    public void onJobStart(SparkListenerJobStart job) {
        String round = job.properties() == null ? null : job.properties().getProperty(ROUND_PROPERTY);
        if (round != null) {
            long r = Long.parseLong(round);
            submitted.put(r, job.time());
            job.stageIds().foreach(id -> stageRound.put((Integer) id, r));
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        Long r = stageRound.get(end.stageId());
        if (r == null || end.taskMetrics() == null) {
            return;
        }
        TaskInfo info = end.taskInfo();
        Long t0 = submitted.get(r);
        double[] v = new double[4];
        v[LAUNCH_WAIT] = t0 == null ? 0 : info.launchTime() - t0;
        v[DESERIALIZE] = end.taskMetrics().executorDeserializeTime();
        v[DESERIALIZE_CPU] = end.taskMetrics().executorDeserializeCpuTime() / 1e6;
        v[RESULT] = end.taskMetrics().resultSerializationTime()
                + (info.gettingResult() ? info.finishTime() - info.gettingResultTime() : 0);
        tasks.merge(r, v, (a, b) -> {
            double[] m = new double[a.length];
            for (int i = 0; i < m.length; i++) {
                m[i] = Math.max(a[i], b[i]);
            }
            return m;
        });
    }

    /**
     * Round {@code round} ran in a job fed by the channel (dist.rounds=stream): no task was launched or deserialized
     * for it, and its tasks' own cost is the CPU time they spent on the channel, {@code ms} at most.
     */
    void taskResult(long round, double ms) {
        double[] v = new double[4];
        v[RESULT] = ms;
        tasks.put(round, v);
    }

    /** Starts counting a new epoch's rounds. */
    synchronized void beginEpoch() {
        firstOfEpoch = next;
        ended = 0;
        broadcastMs = wallMs = trainingMs = driverCpuMs = javaThreadsCpuMs = 0;
        replayed = 0;
    }

    /**
     * Marks the next round's job; returns its number. The times run from the epoch's first round's start to its last
     * round's end (rounds may overlap), with the driver's work between rounds (the outer update).
     */
    synchronized long beginRound() {
        if (next == firstOfEpoch) {
            wallAtStart = System.nanoTime();
            cpuAtStart = os.getProcessCpuTime();
            javaThreadsCpuAtStart = javaThreadsCpu();
        }
        return next++;
    }

    /** A round has ended: its broadcast's time and its training time on the task slots, in milliseconds. */
    synchronized void endRound(double broadcast, double training) {
        wallMs = (System.nanoTime() - wallAtStart) / 1e6;
        ended++;
        broadcastMs += broadcast;
        trainingMs += training;
    }

    /**
     * The epoch's last round and its outer update are done: the driver's CPU time since the epoch's first round began
     * (taken once an epoch: summing every thread's CPU time costs a Spark driver's hundred threads ~0.3 ms).
     */
    synchronized void endRounds() {
        if (ended > 0) {
            driverCpuMs = (os.getProcessCpuTime() - cpuAtStart) / 1e6;
            javaThreadsCpuMs = (javaThreadsCpu() - javaThreadsCpuAtStart) / 1e6;
        }
    }

    /**
     * A shard's task did not find the shard's state on its executor (lost, or the task ran elsewhere) and replayed
     * {@code rounds} rounds of the epoch to rebuild it.
     */
    synchronized void replayed(int rounds) {
        replayed += rounds;
    }

    /** CPU nanoseconds of the driver's live Java threads: its own work, without the JIT compiler's and the GC's. */
    private long javaThreadsCpu() {
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            sum += Math.max(0, threads.getThreadCpuTime(id));
        }
        return sum;
    }

    /**
     * The epoch's rounds in one line: per round on average, the wall time, what training took on the task slots, and
     * the rest: the broadcast and the job beyond training; within the job, the largest wait for a task's launch,
     * deserialization (wall, CPU) and result; the driver process's CPU time, and of it its Java threads' (the rest is
     * the JIT compiler, still busy after hundreds of rounds, and the GC); the shard-rounds replayed because a task did
     * not find its shard's state ({@link #replayed}).
     */
    synchronized String describe() {
        long rounds = ended;
        if (rounds == 0) {
            return "no rounds";
        }
        double[] t = new double[4];
        tasks.forEach((r, v) -> {
            if (r >= firstOfEpoch) {
                for (int i = 0; i < t.length; i++) {
                    t[i] += v[i];
                }
            }
        });
        double n = rounds;
        return String.format(Locale.ROOT, "%d rounds in the last epoch, per round %.1f ms: training %.1f ms, broadcast "
                        + "%.1f ms, job beyond training %.1f ms (largest launch wait %.1f, deserialization %.1f, of it "
                        + "CPU %.1f, result %.1f); driver CPU %.1f ms (Java threads %.1f); shard-rounds replayed %d", rounds, wallMs / n,
                trainingMs / n, broadcastMs / n, (wallMs - broadcastMs - trainingMs) / n, t[LAUNCH_WAIT] / n, t[DESERIALIZE] / n,
                t[DESERIALIZE_CPU] / n, t[RESULT] / n, driverCpuMs / n, javaThreadsCpuMs / n, replayed);
    }

    @Override
    public void close() {
        sc.removeSparkListener(this);
    }
}
