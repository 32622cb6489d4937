package dev.seqspark.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** SparkSession with SeqSpark's defaults; whatever spark-submit or the user set wins. */
public final class Sessions {
    private Sessions() {}

    /** A session, and whether closing the handle stops it (only when this handle started it). */
    public record Handle(SparkSession spark, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) {
                spark.stop();
            }
        }
    }

    /**
     * The running session if there is one (a test suite's, a user's notebook), else a new one: {@code master}
     * if given, else what spark-submit set (spark.master), else local[*] (all cores). One BLAS thread per
     * task on executors (Spark's tasks are the parallelism), and the driver's BLAS choice
     * ({@code seqspark.blas} / {@code SEQSPARK_BLAS}) for them too.
     */
    public static Handle open(String appName, String master) {
        scala.Option<SparkSession> active = SparkSession.getActiveSession();
        if (active.isEmpty()) {
            active = SparkSession.getDefaultSession();
        }
        if (active.isDefined() && !active.get().sparkContext().isStopped()) {
            return new Handle(active.get(), false);
        }
        SparkConf conf = new SparkConf();
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        conf.setIfMissing("spark.app.name", appName);
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        conf.setIfMissing("spark.executorEnv.OPENBLAS_NUM_THREADS", "1");
        // The BLAS this driver was told to use (seqspark.blas / SEQSPARK_BLAS), for the executors too.
        String blas = System.getProperty("seqspark.blas", System.getenv("SEQSPARK_BLAS"));
        if (blas != null && !blas.isBlank()) {
            conf.setIfMissing("spark.executorEnv.SEQSPARK_BLAS", blas.trim());
        }
        return new Handle(SparkSession.builder().config(conf).getOrCreate(), true);
    }
}
