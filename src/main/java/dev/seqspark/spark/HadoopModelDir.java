package dev.seqspark.spark;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.io.OutputDir;
import dev.seqspark.io.ModelFormatException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A SeqSpark model directory ({@link ModelDir}: config.json, vocab.json, weights.safetensors) on any Hadoop
 * FileSystem (HDFS, S3A, file:, ...).
 *
 * <p>Both directions go through a private local temporary directory and {@link ModelDir} itself: written by
 * {@link ModelDir#writeContents} and copied up file by file; read by copying the three files down and calling
 * {@link ModelDir#read}. So there is one writer and one (hardened) reader of the format, whatever the file
 * system, and every check of ModelDir.read applies unchanged. The cost is a transient local copy of the
 * model, no larger than the model already held in memory. Messages name the files where they really are.
 */
public final class HadoopModelDir {
    /** The files {@link ModelDir#read} reads; anything else in the directory is ignored, as it is locally. */
    private static final List<String> READ = List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS);

    private HadoopModelDir() {}

    /** Writes {@code model} into {@code dir} on {@code fs}; {@code dir} must not exist yet. */
    public static void write(FileSystem fs, Path dir, Model model) throws IOException {
        if (fs.exists(dir)) {
            throw new org.apache.hadoop.fs.FileAlreadyExistsException(dir + " exists");
        }
        java.nio.file.Path local = Files.createTempDirectory("seqspark-model-");
        try {
            ModelDir.writeContents(local, model, List.of());
            fs.mkdirs(dir);
            try (var files = Files.list(local)) {
                for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files::iterator) {
                    fs.copyFromLocalFile(false, false, new Path(f.toUri()), new Path(dir, f.getFileName().toString()));
                }
            }
        } finally {
            OutputDir.deleteRecursively(local);
        }
    }

    /** Reads and checks the model directory {@code dir} on {@code fs} for scoring, as {@link ModelDir#readForInference} does locally (NaN or infinite weights are refused). */
    public static Model read(FileSystem fs, Path dir) {
        String where = dir.toString();
        java.nio.file.Path local = null;
        try {
            if (!isDirectory(fs, dir)) {
                throw new ModelFormatException(where + ": no such model directory");
            }
            local = Files.createTempDirectory("seqspark-model-");
            for (String name : READ) {
                Path f = new Path(dir, name);
                FileStatus st = status(fs, f);
                if (st != null && st.isFile()) {      // a missing file stays missing: ModelDir.read names it
                    try {
                        // raw local file system: no .crc file beside the temporary copy
                        fs.copyToLocalFile(false, f, new Path(local.resolve(name).toUri()), true);
                    } catch (IOException e) {
                        throw new ModelFormatException(f + ": cannot read (" + oneLine(e) + ")", e);
                    }
                }
            }
            try {
                return ModelDir.readForInference(local);
            } catch (ModelFormatException e) {
                // The same failure, named where the file really is; the temporary copy is not worth a mention.
                ModelFormatException named = new ModelFormatException(e.getMessage().replace(local.toString(), where),
                        e.getCause());
                named.setStackTrace(e.getStackTrace());
                throw named;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(where + ": " + oneLine(e), e);
        } finally {
            if (local != null) {
                try {
                    OutputDir.deleteRecursively(local);
                } catch (IOException ignored) {
                    // a leftover temporary copy must not hide the result
                }
            }
        }
    }

    static boolean isDirectory(FileSystem fs, Path p) throws IOException {
        FileStatus st = status(fs, p);
        return st != null && st.isDirectory();
    }

    /** The status of {@code p}, null when there is nothing there. */
    static FileStatus status(FileSystem fs, Path p) throws IOException {
        try {
            return fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    private static String oneLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
