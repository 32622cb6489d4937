package dev.seqspark.spark;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.TaskInfo;

/**
 * Where a training run's rounds spend the time that is not training, for the run's summary line and the round-cost
 * model of docs/distributed.md. The driver's side is timed by {@link SparkWorkers} (the broadcast, the job from
 * submission to its last result summed); the tasks' side is read from Spark's listener
 * events for the round jobs (marked by a local property): the wait from job submission to a task's launch, the
 * task's deserialization, the time it spent outside training (broadcast fetch, reading its state), and its result's
 * serialization and fetch. All in milliseconds, summed over the rounds; per-task figures are the round's largest.
 */
final class RoundCosts extends SparkListener implements AutoCloseable {
    static final String ROUND_PROPERTY = "seqspark.round";

    private final SparkContext sc;
    private final Map<Integer, Long> stageRound = new ConcurrentHashMap<>();
    private final Map<Long, Long> submitted = new ConcurrentHashMap<>();
    private final Map<Long, double[]> tasks = new ConcurrentHashMap<>();   // per round: launch wait, deserialize, result
    private int rounds;
    private double broadcastMs;
    private double jobMs;
    private double slowestMs;

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
        double launchWait = t0 == null ? 0 : info.launchTime() - t0;
        double deserialize = end.taskMetrics().executorDeserializeTime();
        double result = end.taskMetrics().resultSerializationTime() + (info.gettingResult()
                ? info.finishTime() - info.gettingResultTime() : 0);
        tasks.merge(r, new double[] {launchWait, deserialize, result}, (a, b) -> new double[] {Math.max(a[0], b[0]),
                Math.max(a[1], b[1]), Math.max(a[2], b[2])});
    }

    /**
     * One round's driver-side times and its training time on the task slots (the slowest shard, or all shards'
     * time spread over the slots), in milliseconds.
     */
    synchronized void round(double broadcast, double job, double slowest) {
        rounds++;
        broadcastMs += broadcast;
        jobMs += job;
        slowestMs += slowest;
    }

    /** The number the next round's job is marked with. */
    synchronized int next() {
        return rounds;
    }

    /**
     * The rounds in one line: per round on average, the wall time, what training took on the task slots, and the
     * rest: the broadcast and the job beyond its slowest task; within the job, the largest wait for a task's
     * launch, deserialization and result.
     */
    synchronized String describe() {
        if (rounds == 0) {
            return "no rounds";
        }
        double[] t = new double[3];
        tasks.values().forEach(v -> {
            for (int i = 0; i < 3; i++) {
                t[i] += v[i];
            }
        });
        double n = rounds;
        return String.format(Locale.ROOT, "%d rounds, per round %.1f ms: training %.1f ms, broadcast "
                        + "%.1f ms, job beyond training %.1f ms (largest launch wait %.1f, deserialization %.1f, result "
                        + "%.1f)", rounds, (broadcastMs + jobMs) / n, slowestMs / n, broadcastMs / n,
                (jobMs - slowestMs) / n, t[0] / n, t[1] / n, t[2] / n);
    }

    @Override
    public void close() {
        sc.removeSparkListener(this);
    }
}
