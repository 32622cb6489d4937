package dev.seqspark.spark;

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
     * if given, else what spark-submit set (spark.master), else local[*] (all cores). One BLAS thread per
     * task on executors (Spark's tasks are the parallelism), and the driver's BLAS choice
     * ({@code seqspark.blas} / {@code SEQSPARK_BLAS}) for them too.
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
}
