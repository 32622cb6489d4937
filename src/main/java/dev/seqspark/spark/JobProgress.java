package dev.seqspark.spark;

import java.io.Serializable;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * How far the Spark jobs of one job group have come, for the driver to report while they run: records and
 * tokens done (two accumulators the tasks add to, see {@link Counters}), input bytes read and tasks finished
 * (Spark's task metrics). Finished tasks count from their final values; running tasks from the partial values
 * their executors send with every heartbeat ({@code spark.executor.heartbeatInterval}, 10 s by default), so a
 * job of a few long tasks still shows progress. Run the jobs under {@link SparkContext#setJobGroup} with
 * {@link #group()}; {@link #close()} removes the listener.
 */
public final class JobProgress extends SparkListener implements AutoCloseable {
    private static final String BYTES_READ = "internal.metrics.input.bytesRead";

    /** What tasks add to as they go: records and tokens done. Serializable: it travels inside the tasks. */
    public record Counters(LongAccumulator records, LongAccumulator tokens) implements Serializable {
        public void add(long recordsDone, long tokensDone) {
            records.add(recordsDone);
            tokens.add(tokensDone);
        }
    }

    /**
     * The state of the jobs: {@code seconds} since the first of them started (negative before), and
     * {@code inputBytes}, the size of the input, when known (else -1).
     */
    public record Snapshot(long records, long tokens, long bytesRead, long inputBytes, int tasksDone, int tasksTotal,
                           double seconds) {
        public boolean started() {
            return seconds >= 0;
        }

        /**
         * The fraction done, in [0, 1]: of the input's bytes, or of the tasks when that is further along (a
         * columnar format reads less than its files hold); NaN before anything is known.
         */
        public double fraction() {
            double f = Double.NaN;
            if (inputBytes > 0) {
                f = Math.min(1.0, (double) bytesRead / inputBytes);
            }
            if (tasksTotal > 0) {
                double t = Math.min(1.0, (double) tasksDone / tasksTotal);   // retried stages add tasks
                f = Double.isNaN(f) ? t : Math.max(f, t);
            }
            return f;
        }
    }

    private final SparkContext sc;
    private final String group;
    private final long inputBytes;
    private final Counters counters;
    private final Set<Integer> stages = new HashSet<>();
    private final Set<Long> finished = new HashSet<>();
    private final Map<Long, long[]> running = new HashMap<>();   // task id -> {records, tokens, bytes}
    private long startNanos = -1;
    private int tasksTotal;
    private int tasksDone;
    private long records;
    private long tokens;
    private long bytes;

    private JobProgress(SparkContext sc, String group, long inputBytes) {
        this.sc = sc;
        this.group = group;
        this.inputBytes = inputBytes;
        this.counters = new Counters(sc.longAccumulator(group + ".records"), sc.longAccumulator(group + ".tokens"));
    }

    /** Starts watching the jobs of a new job group named after {@code what}; {@code inputBytes}: -1 if unknown. */
    public static JobProgress start(SparkSession spark, String what, long inputBytes) {
        JobProgress p = new JobProgress(spark.sparkContext(), what + "-" + java.util.UUID.randomUUID(), inputBytes);
        spark.sparkContext().addSparkListener(p);
        return p;
    }

    /** The job group to run the watched jobs in. */
    public String group() {
        return group;
    }

    public Counters counters() {
        return counters;
    }

    public synchronized Snapshot snapshot() {
        long r = records;
        long t = tokens;
        long b = bytes;
        for (long[] v : running.values()) {
            r += v[0];
            t += v[1];
            b += v[2];
        }
        double seconds = startNanos < 0 ? -1 : (System.nanoTime() - startNanos) / 1e9;
        return new Snapshot(r, t, b, inputBytes, tasksDone, tasksTotal, seconds);
    }

    @Override
    public synchronized void onJobStart(SparkListenerJobStart e) {
        Properties props = e.properties();
        if (props == null || !group.equals(props.getProperty("spark.jobGroup.id"))) {
            return;
        }
        if (startNanos < 0) {
            startNanos = System.nanoTime();
        }
        for (StageInfo s : CollectionConverters.asJava(e.stageInfos())) {
            if (stages.add(s.stageId())) {
                tasksTotal += s.numTasks();
            }
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        if (!stages.contains(e.stageId())) {
            return;
        }
        long id = e.taskInfo().taskId();
        running.remove(id);
        finished.add(id);
        if (!e.taskInfo().successful()) {
            return;                                   // its attempt again will count
        }
        tasksDone++;
        if (e.taskMetrics() != null) {
            bytes += e.taskMetrics().inputMetrics().bytesRead();
        }
        long[] v = values(CollectionConverters.asJava(e.taskInfo().accumulables()), false);
        records += v[0];
        tokens += v[1];
    }

    @Override
    public synchronized void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate e) {
        for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> u
                : CollectionConverters.asJava(e.accumUpdates())) {
            long task = (Long) u._1();
            if (stages.contains((Integer) u._2()) && !finished.contains(task)) {
                running.put(task, values(CollectionConverters.asJava(u._4()), true));
            }
        }
    }

    /** {records, tokens, bytes read} among a task's accumulator updates (bytes only from heartbeats). */
    private long[] values(java.util.Collection<AccumulableInfo> infos, boolean withBytes) {
        long[] v = new long[3];
        for (AccumulableInfo a : infos) {
            if (a.update().isEmpty() || !(a.update().get() instanceof Number n)) {
                continue;
            }
            if (a.id() == counters.records().id()) {
                v[0] = n.longValue();
            } else if (a.id() == counters.tokens().id()) {
                v[1] = n.longValue();
            } else if (withBytes && a.name().isDefined() && BYTES_READ.equals(a.name().get())) {
                v[2] = n.longValue();
            }
        }
        return v;
    }

    @Override
    public void close() {
        sc.removeSparkListener(this);
    }
}
