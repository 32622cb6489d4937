package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.nn.Kernels;
import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SeqSpark's settings for a new session: executors get the driver's multiply path (VectorGemm or BLAS) even over a
 * value set for them alone, and one OpenBLAS thread unless told otherwise.
 *
 * <p>Even splits for the scoring and prediction jobs: a 3.4 MB file on the test session's 2 slots is read in 3 per slot
 * (Spark alone reads it in one, its splits being no smaller than (size + 4 MB open cost) / slots), no line is lost
 * or doubled at the cuts, the setting is gone once closed, and a cap the user set is kept.
 */
class SessionsTest {
    @TempDir
    Path tmp;

    @Test
    void executorsGetTheDriversMultiplyPath() {
        String driver = Boolean.toString(Kernels.vectorGemm());
        String other = Boolean.toString(!Kernels.vectorGemm());
        SparkConf conf = Sessions.settings(new SparkConf(false)
                .set("spark.executorEnv." + Kernels.GEMM_ENV, other)
                .set("spark.executorEnv.OPENBLAS_NUM_THREADS", "2"), "app");
        assertEquals(driver, conf.get("spark.executorEnv." + Kernels.GEMM_ENV));
        assertEquals("2", conf.get("spark.executorEnv.OPENBLAS_NUM_THREADS"), "the user's thread count is kept");
        assertEquals("app", conf.get("spark.app.name"));
        assertEquals("1", Sessions.settings(new SparkConf(false), "app").get("spark.executorEnv.OPENBLAS_NUM_THREADS"));
    }

    @Test
    void splitsTheInputEvenlyOverTheTaskSlotsForAWhile() throws IOException {
        SparkSession spark = SparkTestSession.get();
        Path f = tmp.resolve("lines.txt");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 80_000; i++) {
            lines.add("line " + i + " of a text to score, long enough");
        }
        Files.write(f, lines);
        long bytes = Files.size(f);
        assertTrue(bytes > 3_000_000 && bytes < 4_000_000, "a file of " + bytes + " bytes");
        int slots = spark.sparkContext().defaultParallelism();
        assertEquals(1, spark.read().text(f.toString()).javaRDD().getNumPartitions(), "Spark's own: one task does it all");
        try (Sessions.Setting s = Sessions.evenSplits(spark, bytes)) {
            var rdd = spark.read().text(f.toString()).javaRDD();
            assertEquals(slots * Sessions.SPLITS_PER_CORE, rdd.getNumPartitions());
            List<Integer> sizes = rdd.mapPartitions(it -> {
                int n = 0;
                while (it.hasNext()) {
                    it.next();
                    n++;
                }
                return List.of(n).iterator();
            }).collect();
            assertEquals(lines.size(), sizes.stream().mapToInt(Integer::intValue).sum(), "every line once");
            int least = sizes.stream().mapToInt(Integer::intValue).min().orElseThrow();
            int most = sizes.stream().mapToInt(Integer::intValue).max().orElseThrow();
            assertTrue(most - least <= most / 50 + 1, "even splits: " + sizes);
        }
        assertFalse(spark.conf().contains(Sessions.MAX_SPLIT), "unset when closed");

        spark.conf().set(Sessions.MAX_SPLIT, "1000000");
        try (Sessions.Setting s = Sessions.evenSplits(spark, bytes)) {
            assertEquals("1000000", spark.conf().get(Sessions.MAX_SPLIT), "the user's cap is kept");
        } finally {
            spark.conf().unset(Sessions.MAX_SPLIT);
        }
        try (Sessions.Setting s = Sessions.evenSplits(spark, 10_000)) {
            assertEquals(Long.toString(Sessions.MIN_SPLIT_BYTES), spark.conf().get(Sessions.MAX_SPLIT), "small input: one split");
        }
    }
}
