package dev.seqspark.spark;

import java.io.IOException;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The output folder of a Spark writer ({@code score}, {@code generate --prefixes}), on any Hadoop file system.
 * Spark's {@code SaveMode.Overwrite} deletes whatever the folder holds; SeqSpark lets it do so only when
 * the folder is empty or holds nothing but what a Spark writer leaves ({@code part-*}, {@code _SUCCESS},
 * checksums, {@code _temporary}), so that a user's own files are never deleted.
 */
public final class SparkOutput {
    private static final Pattern SPARK_WRITTEN =
            Pattern.compile("part-.*|_SUCCESS|_temporary|_started_.*|_committed_.*|\\..*\\.crc");

    private SparkOutput() {}

    /**
     * Refuses, with one line naming the folder, an existing {@code path} without {@code overwrite}, and with
     * it one that holds anything a Spark writer did not write.
     */
    public static void checkWritable(SparkSession spark, String path, boolean overwrite) {
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(p)) {
                return;
            }
            if (!overwrite) {
                throw new IllegalArgumentException("output directory " + path + " exists; add --overwrite to replace it");
            }
            if (!fs.getFileStatus(p).isDirectory()) {
                throw new IllegalArgumentException("refusing to replace " + path + ": it is a file, not an output folder");
            }
            for (FileStatus f : fs.listStatus(p)) {
                String name = f.getPath().getName();
                if (!SPARK_WRITTEN.matcher(name).matches()) {
                    throw new IllegalArgumentException("refusing to replace " + path + ": it holds '" + name
                            + "', which no Spark writer wrote; --overwrite replaces only an empty folder or an earlier "
                            + "output (part-* and _SUCCESS files): choose another --output, or empty it yourself");
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot inspect the output " + path + ": " + e.getMessage(), e);
        }
    }
}
