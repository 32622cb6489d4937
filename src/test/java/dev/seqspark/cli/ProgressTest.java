package dev.seqspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.io.Location;
import dev.seqspark.io.ModelDir;
import dev.seqspark.spark.JobProgress;
import dev.seqspark.testutil.Golden;
import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** score and batch generate report progress on stderr, keep stdout for their result, and name their Spark jobs. */
class ProgressTest {
    @TempDir
    static Path tmp;
    static Path modelDir;
    static Path input;
    static SparkSession spark;
    static final Pattern PERIODIC = Pattern.compile(
            "score: [\\d,]+ records  [\\d,]+ tokens(  \\d+% done)?(  [\\d,]+ tokens/s)?(  ETA \\d+:\\d\\d)?");

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        modelDir = tmp.resolve("model");
        ModelDir.write(Location.local(modelDir), ModelDir.read(Location.local(Golden.resource("torch_model"))), List.of(), false);
        input = tmp.resolve("in.txt");
        List<String> lines = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8);
        Files.write(input, lines.subList(0, 4000), StandardCharsets.UTF_8);
    }

    /** The Spark job descriptions seen while {@code r} runs. */
    static List<String> descriptions(Runnable r) throws InterruptedException {
        List<String> seen = new CopyOnWriteArrayList<>();
        SparkListener l = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart e) {
                seen.add(String.valueOf(e.properties().getProperty("spark.job.description")));
            }
        };
        spark.sparkContext().addSparkListener(l);
        try {
            r.run();
            Thread.sleep(500);        // the listener bus is asynchronous
            return seen;
        } finally {
            spark.sparkContext().removeSparkListener(l);
        }
    }

    @Test
    void scoreReportsProgressOnStderrAndNamesItsJob() throws Exception {
        Path out = tmp.resolve("scores");
        Object[][] r = new Object[1][];
        List<String> jobs = descriptions(() -> r[0] = ScoreCommandTest.run("score", "--model", modelDir.toString(),
                "--input", input.toString(), "--output", out.toString(), "--progress", "0.05"));
        assertEquals(0, r[0][0], (String) r[0][2]);
        JsonNode totals = ScoreCommandTest.lastJsonLine((String) r[0][1]);
        assertEquals(4000, totals.get("records").asLong());
        List<String> err = ((String) r[0][2]).lines().toList();
        assertTrue(err.stream().anyMatch(l -> PERIODIC.matcher(l).matches()), "a progress line while it ran:\n" + r[0][2]);
        String last = String.format(java.util.Locale.ROOT, "score: 4,000 records  %,d tokens  done in ",
                totals.get("tokens").asLong());
        assertTrue(err.get(err.size() - 1).startsWith(last) && err.get(err.size() - 1).endsWith("written to " + out),
                "the last line: totals\n" + r[0][2]);
        assertTrue(jobs.contains("seqspark score: " + modelDir + " on file:" + input + " -> " + out), jobs.toString());
    }

    @Test
    void batchGenerateReportsProgressAndNamesItsJob() throws Exception {
        Path prefixes = tmp.resolve("prefixes.txt");
        Files.writeString(prefixes, "Tom\n\nHuck\nAunt Polly\n");
        Path out = tmp.resolve("generated");
        Object[][] r = new Object[1][];
        List<String> jobs = descriptions(() -> r[0] = ScoreCommandTest.run("generate", "--model", modelDir.toString(),
                "--prefixes", prefixes.toString(), "--output", out.toString(), "--length", "7", "--progress", "0"));
        assertEquals(0, r[0][0], (String) r[0][2]);
        String err = ((String) r[0][2]).strip();
        assertTrue(err.startsWith("generate: 4 prefixes  21 tokens generated  done in ") && err.endsWith("written to " + out)
                && err.lines().count() == 1, "with --progress 0 only the last line:\n" + err);
        assertTrue(jobs.contains("seqspark generate: " + modelDir + " on file:" + prefixes + " -> " + out), jobs.toString());
    }

    @Test
    void progressLines() {
        JobProgress.Snapshot s = new JobProgress.Snapshot(1_204_224, 38_535_168, 41, 100, 3, 10, 100);
        assertEquals("score: 1,204,224 records  38,535,168 tokens  41% done  385,352 tokens/s  ETA 2:24",
                ProgressReporter.line("score", s));
        s = new JobProgress.Snapshot(5, 50, 0, -1, 0, 4, 2);
        assertEquals("score: 5 records  50 tokens  0% done  25 tokens/s", ProgressReporter.line("score", s));
        s = new JobProgress.Snapshot(5, 50, 10, 100, 3, 4, 2);
        assertEquals(0.75, s.fraction(), 1e-12, "tasks, when further than bytes (a columnar input reads less)");
        assertEquals("generate: 5 prefixes  50 tokens generated  0% done  25 tokens/s",
                ProgressReporter.line("generate", "prefixes", "tokens generated", new JobProgress.Snapshot(5, 50, 0, -1, 0, 4, 2)));
        assertEquals("1:01:01", ProgressReporter.duration(3661));
        assertEquals("0:59", ProgressReporter.duration(59.4));
    }
}
