package dev.seqspark.testutil;

import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of a test JVM: local mode, 2 threads, up to 3 attempts per task (local[2,3], so that
 * retries can be tested), no UI. Started on first use, stopped when the JVM exits.
 */
public final class SparkTestSession {
    private static SparkSession spark;

    private SparkTestSession() {}

    public static synchronized SparkSession get() {
        if (spark == null) {
            spark = SparkSession.builder()
                    .master("local[2,3]")
                    .appName("seqspark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
        }
        return spark;
    }
}
