package dev.seqspark.cli;

import dev.seqspark.io.Location;
import dev.seqspark.spark.Sessions;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Paths on the command line and in settings, resolved as Spark resolves them: on the Hadoop file system their
 * scheme names ({@code hdfs://…}, {@code s3a://…}, {@code file:…}), else on {@code fs.defaultFS} (the local
 * disk in local mode; HDFS on a YARN cluster). A path that must exist is checked there, before Spark starts.
 */
final class Locations {
    private Locations() {}

    /** A model directory, checkpoint directory or settings file. */
    static Location of(String arg) {
        try {
            return Location.of(arg, Sessions.hadoopConf());
        } catch (IOException | IllegalArgumentException e) {
            throw new UserError("cannot use the path '" + arg + "': " + firstLine(e), e);
        }
    }

    /**
     * An input that Spark reads (a file, a folder or a glob), which must match something: its qualified form
     * (so executors read it where the driver found it). {@code what} names it in the error ("the corpus").
     * With {@code tryHome}, a relative local path that is not in the current directory is tried in
     * {@code $SEQSPARK_HOME} (the launchers set it), so the bundled corpus is found from anywhere.
     */
    static String input(String arg, String what, boolean tryHome) {
        try {
            Configuration conf = Sessions.hadoopConf();
            Path p = new Path(arg);
            FileSystem fs = p.getFileSystem(conf);
            if (!matches(fs, p) && tryHome && p.toUri().getScheme() == null && !p.isAbsolute()
                    && "file".equals(fs.getUri().getScheme()) && System.getenv("SEQSPARK_HOME") != null) {
                Path home = new Path(new Path(System.getenv("SEQSPARK_HOME")), p);
                if (matches(fs, home)) {
                    p = home;
                }
            }
            if (!matches(fs, p)) {
                throw new UserError(what + " " + arg + " does not exist");
            }
            return fs.makeQualified(p).toString();
        } catch (IOException | IllegalArgumentException e) {
            throw new UserError("cannot read " + what + " " + arg + ": " + firstLine(e), e);
        }
    }

    private static boolean matches(FileSystem fs, Path p) throws IOException {
        FileStatus[] m = fs.globStatus(p);
        return m != null && m.length > 0;
    }

    /** The bytes an input (as {@link #input} returned it) holds, files of folders included; -1 when unknown. */
    static long bytes(String qualified) {
        try {
            Path p = new Path(qualified);
            FileSystem fs = p.getFileSystem(Sessions.hadoopConf());
            long total = 0;
            for (FileStatus s : fs.globStatus(p)) {
                total += s.isDirectory() ? fs.getContentSummary(s.getPath()).getLength() : s.getLen();
            }
            return total;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
