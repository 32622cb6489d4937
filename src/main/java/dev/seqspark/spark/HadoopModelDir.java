package dev.seqspark.spark;

import dev.seqspark.io.ClassifierDir;
import dev.seqspark.io.ClassifierModel;
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
 * A SeqSpark model directory ({@link ModelDir}: config.json, vocab.json, weights.safetensors; a classifier's also
 * labels.json, {@link ClassifierDir}) on any Hadoop FileSystem (HDFS, S3A, file:, ...).
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

    /** The files {@link ClassifierDir#read} reads. */
    private static final List<String> READ_CLASSIFIER = List.of(ModelDir.CONFIG, ModelDir.VOCAB, ClassifierDir.LABELS,
            ModelDir.WEIGHTS);

    /** Writes {@code model} into {@code dir} on {@code fs}; {@code dir} must not exist yet. */
    public static void write(FileSystem fs, Path dir, Model model) throws IOException {
        write(fs, dir, local -> ModelDir.writeContents(local, model, List.of()));
    }

    /** Writes a classifier's model directory into {@code dir} on {@code fs}; {@code dir} must not exist yet. */
    public static void write(FileSystem fs, Path dir, ClassifierModel model) throws IOException {
        write(fs, dir, local -> ClassifierDir.writeContents(local, model, List.of()));
    }

    /** Reads and checks a classifier's model directory on {@code fs} for prediction, as {@link ClassifierDir#readForInference}. */
    public static ClassifierModel readClassifier(FileSystem fs, Path dir) {
        return read(fs, dir, READ_CLASSIFIER, ClassifierDir::readForInference);
    }

    /** The files {@code contents} writes into a local temporary directory, copied into {@code dir} (which must not exist). */
    static void write(FileSystem fs, Path dir, OutputDir.Contents contents) throws IOException {
        if (fs.exists(dir)) {
            throw new org.apache.hadoop.fs.FileAlreadyExistsException(dir + " exists");
        }
        java.nio.file.Path local = Files.createTempDirectory("seqspark-model-");
        try {
            contents.writeTo(local);
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
        return read(fs, dir, READ, ModelDir::readForInference);
    }

    /** {@code files} of {@code dir} copied down (those that exist), then read locally by {@code reader}. */
    static <T> T read(FileSystem fs, Path dir, List<String> files, java.util.function.Function<java.nio.file.Path, T> reader) {
        String where = dir.toString();
        java.nio.file.Path local = null;
        try {
            if (!isDirectory(fs, dir)) {
                throw new ModelFormatException(where + ": no such model directory");
            }
            local = Files.createTempDirectory("seqspark-model-");
            for (String name : files) {
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
                return reader.apply(local);
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
