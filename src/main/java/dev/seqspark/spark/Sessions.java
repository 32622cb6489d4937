package dev.seqspark.spark;

import dev.seqspark.nn.Kernels;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

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
     * if given, else what spark-submit set (spark.master), else local[*] (all cores), with {@link #settings}.
     */
    public static Handle open(String appName, String master) {
        SparkSession running = running();
        if (running != null) {
            return new Handle(running, false);
        }
        SparkConf conf = new SparkConf();
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        return new Handle(SparkSession.builder().config(settings(conf, appName)).getOrCreate(), true);
    }

    /**
     * SeqSpark's settings on {@code conf}, for a SparkContext not started yet (its executors are launched after
     * it, with these): one BLAS thread per task on executors (Spark's tasks are the parallelism), the driver's BLAS
     * choice ({@code seqspark.blas} / {@code SEQSPARK_BLAS}) for them too, and the driver's path for the time
     * steps' multiplies, VectorGemm or BLAS ({@code nn.Kernels}): always the driver's, over any value set for the
     * executors alone, so that one job multiplies one way. Public for sessions built elsewhere that run SeqSpark
     * (a notebook's for the Spark ML API, the test suite's); a session already running keeps what it has.
     * Throws, with one line, when this driver was told to multiply in VectorGemm and cannot.
     */
    public static SparkConf settings(SparkConf conf, String appName) {
        conf.setIfMissing("spark.app.name", appName);
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        conf.setIfMissing("spark.executorEnv.OPENBLAS_NUM_THREADS", "1");
        // A training round returns each shard's weights (a megabyte or more): straight back with the task's status,
        // not parked in the executor's block manager for a second fetch (Spark's default above 1 MiB).
        conf.setIfMissing("spark.task.maxDirectResultSize", "64m");
        // The BLAS this driver was told to use (seqspark.blas / SEQSPARK_BLAS), for the executors too.
        String blas = System.getProperty("seqspark.blas", System.getenv("SEQSPARK_BLAS"));
        if (blas != null && !blas.isBlank()) {
            conf.setIfMissing("spark.executorEnv.SEQSPARK_BLAS", blas.trim());
        }
        conf.set("spark.executorEnv." + Kernels.GEMM_ENV, Boolean.toString(Kernels.vectorGemm()));
        return conf;
    }

    /** The running session (a test suite's, a user's notebook), or null. */
    private static SparkSession running() {
        scala.Option<SparkSession> active = SparkSession.getActiveSession();
        if (active.isEmpty()) {
            active = SparkSession.getDefaultSession();
        }
        return active.isDefined() && !active.get().sparkContext().isStopped() ? active.get() : null;
    }

    /**
     * The Hadoop configuration Spark's jobs see, for paths resolved before a session starts (a bad model or
     * output is refused before Spark does any work): the running session's, else Hadoop's own
     * ({@code core-site.xml} on the classpath — spark-submit puts {@code HADOOP_CONF_DIR} there — so a path
     * without a scheme means {@code fs.defaultFS}) with every {@code spark.hadoop.*} setting applied, as
     * Spark applies them.
     */
    public static Configuration hadoopConf() {
        SparkSession s = running();
        if (s != null) {
            return s.sparkContext().hadoopConfiguration();
        }
        Configuration c = new Configuration();
        for (Tuple2<String, String> kv : new SparkConf().getAllWithPrefix("spark.hadoop.")) {
            c.set(kv._1(), kv._2());
        }
        return c;
    }

    /** Whether this JVM is a driver that spark-submit started in cluster deploy mode (on a cluster node). */
    public static boolean clusterDeployMode() {
        return "cluster".equals(new SparkConf().get("spark.submit.deployMode", "client"));
    }

    /** The setting that caps a file split, Spark's default for it, and the smallest cap set here. */
    static final String MAX_SPLIT = "spark.sql.files.maxPartitionBytes";
    static final long SPARK_MAX_SPLIT_BYTES = 128L << 20;
    static final long MIN_SPLIT_BYTES = 256L << 10;
    static final int SPLITS_PER_CORE = 3;

    /** A session setting made for a while (none when {@code key} is null); closing it unsets it again. */
    public record Setting(SparkSession spark, String key) implements AutoCloseable {
        @Override
        public void close() {
            if (key != null) {
                spark.conf().unset(key);
            }
        }
    }

    /**
     * Splits of file input of {@code inputBytes} in all sized for an even share of the work on every task slot,
     * until the returned setting is closed. Spark's splits are at most {@value #MAX_SPLIT} (128 MB) but no
     * smaller than {@code spark.sql.files.openCostInBytes} (4 MB) apart from the last: on 2 cores a 5 MB file
     * becomes 4.5 MB + 0.5 MB, and one core scores 90% of it while the other waits. Here the cap is the input
     * over {@value #SPLITS_PER_CORE} splits per core (so that tasks of unequal speed still end near together),
     * at least 256 KB, at most Spark's. A cap the user set (spark-submit, the session) is left alone; so is the
     * input when its size is unknown (−1).
     */
    public static Setting evenSplits(SparkSession spark, long inputBytes) {
        if (inputBytes <= 0 || spark.conf().contains(MAX_SPLIT)) {
            return new Setting(spark, null);
        }
        long splits = Math.max(1, spark.sparkContext().defaultParallelism()) * (long) SPLITS_PER_CORE;
        long cap = Math.max(MIN_SPLIT_BYTES, Math.min(SPARK_MAX_SPLIT_BYTES, (inputBytes + splits - 1) / splits));
        spark.conf().set(MAX_SPLIT, Long.toString(cap));
        return new Setting(spark, MAX_SPLIT);
    }
}
