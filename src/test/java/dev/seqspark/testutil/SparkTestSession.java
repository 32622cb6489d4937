package dev.seqspark.testutil;

import dev.seqspark.spark.Sessions;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of a test JVM: local mode, 2 threads, up to 3 attempts per task (local[2,3], so that
 * retries can be tested), no UI, and SeqSpark's settings ({@link Sessions#settings}), as its commands have them.
 * Started on first use, stopped when the JVM exits.
 */
public final class SparkTestSession {
    private static SparkSession spark;

    private SparkTestSession() {}

    public static synchronized SparkSession get() {
        if (spark == null) {
            SparkConf conf = new SparkConf()
                    .setMaster("local[2,3]")
                    .set("spark.ui.enabled", "false")
                    .set("spark.sql.shuffle.partitions", "4");
            spark = SparkSession.builder().config(Sessions.settings(conf, "seqspark-tests")).getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
        }
        return spark;
    }
}
