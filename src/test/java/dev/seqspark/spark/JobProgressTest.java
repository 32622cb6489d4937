package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/** JobProgress counts the tasks of its job group: finished ones from their final values, running ones from heartbeats. */
class JobProgressTest {
    @TempDir
    Path tmp;

    private static JobProgress.Snapshot settled(JobProgress p, int tasks) throws InterruptedException {
        for (int i = 0; i < 100 && p.snapshot().tasksDone() < tasks; i++) {
            Thread.sleep(50);     // the listener bus is asynchronous
        }
        return p.snapshot();
    }

    @Test
    void countsTheJobGroupsTasksAndHeartbeats() throws IOException, InterruptedException {
        SparkSession spark = SparkTestSession.get();
        SparkContext sc = spark.sparkContext();
        Path f = tmp.resolve("lines.txt");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            lines.add("line " + i);
        }
        Files.write(f, lines);
        long chars = lines.stream().mapToLong(String::length).sum();
        try (JobProgress p = JobProgress.start(spark, "test", Files.size(f))) {
            assertTrue(!p.snapshot().started(), "nothing ran yet");
            JobProgress.Counters c = p.counters();
            sc.setJobGroup(p.group(), "counted", false);
            long n = spark.read().textFile(f.toString()).javaRDD().map(l -> {
                c.add(1, l.length());
                return l;
            }).count();
            sc.clearJobGroup();
            // Another job adding to the same accumulators, outside the group: not counted.
            spark.read().textFile(f.toString()).javaRDD().map(l -> {
                c.add(1, 1);
                return l;
            }).count();
            assertEquals(5000, n);
            JobProgress.Snapshot s = settled(p, 1);
            assertTrue(s.started() && s.tasksTotal() >= 1 && s.tasksDone() == s.tasksTotal(), s.toString());
            assertEquals(5000, s.records());
            assertEquals(chars, s.tokens());
            assertEquals(Files.size(f), s.bytesRead(), s.toString());
            assertEquals(1.0, s.fraction(), 1e-12);

            // A heartbeat from a running task of a watched stage counts; one of another stage does not.
            int stage = sc.statusTracker().getJobIdsForGroup(p.group()).length > 0
                    ? sc.statusTracker().getJobInfo(sc.statusTracker().getJobIdsForGroup(p.group())[0]).get().stageIds()[0] : -1;
            p.onExecutorMetricsUpdate(heartbeat(777_777L, stage, c, 40, 400, 1000));
            p.onExecutorMetricsUpdate(heartbeat(777_778L, stage + 1000, c, 1, 1, 1));
            JobProgress.Snapshot h = p.snapshot();
            assertEquals(5040, h.records());
            assertEquals(chars + 400, h.tokens());
            assertEquals(Files.size(f) + 1000, h.bytesRead());
        }
    }

    private static SparkListenerExecutorMetricsUpdate heartbeat(long task, int stage, JobProgress.Counters c, long records,
                                                                long tokens, long bytes) {
        List<AccumulableInfo> infos = List.of(info(c.records().id(), c.records().name(), records),
                info(c.tokens().id(), c.tokens().name(), tokens),
                info(-42, Option.apply("internal.metrics.input.bytesRead"), bytes));
        var update = new Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>>(task, stage, 0,
                CollectionConverters.asScala(infos).toSeq());
        return new SparkListenerExecutorMetricsUpdate("driver", CollectionConverters.asScala(List.of(update)).toSeq(),
                scala.collection.immutable.Map$.MODULE$.empty());
    }

    private static AccumulableInfo info(long id, Option<String> name, long value) {
        return new AccumulableInfo(id, name, Option.apply(value), Option.apply(value), false, false, Option.empty());
    }
}
