package dev.seqspark.spark;

import dev.seqspark.io.Location;
import dev.seqspark.io.ModelDir;
import dev.seqspark.io.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.ReadWriteUtils;
import org.apache.spark.sql.SparkSession;

/**
 * How a Spark ML stage that holds a SeqSpark model (the language model's scorer, the classifier's model) is saved
 * and loaded: Spark's params metadata in {@code path/metadata} (as DefaultParamsWriter writes it, so that
 * PipelineModel.save/load handle the stage like Spark's own) and the model as a SeqSpark model directory in
 * {@code path/model}; and a bare model directory loads too (default params, a new uid).
 */
final class StagePersistence {
    /** Where the model directory goes, inside the stage's path. */
    static final String MODEL_SUBDIR = "model";

    interface ModelWriter {
        void write(Location dir) throws IOException;
    }

    interface ModelReader<M> {
        M read(Location dir);
    }

    interface StageFactory<S, M> {
        /** A stage of {@code model}; {@code uid} null for a bare model directory (a new uid). */
        S make(String uid, M model);
    }

    private StagePersistence() {}

    /**
     * The Hadoop file system of {@code p}; the local one while Spark saves or loads "to local"
     * ({@code MLWriter.saveToLocal}), as Spark's own metadata then goes there too.
     */
    static FileSystem fileSystem(Path p, SparkSession spark) throws IOException {
        var conf = spark.sessionState().newHadoopConf();
        boolean local = Boolean.TRUE.equals(ReadWriteUtils.localSavingModeState().get());
        return local ? FileSystem.getLocal(conf) : p.getFileSystem(conf);
    }

    /** The model under {@code path/model}, then (last: a stage directory with metadata is a complete one) the metadata. */
    static void save(Params stage, String path, SparkSession spark, ModelWriter writer) {
        // MLWriter.save has already refused or cleared an existing path, as overwrite() asked.
        try {
            Path p = new Path(path);
            FileSystem fs = fileSystem(p, spark);
            writer.write(Location.of(fs, fs.makeQualified(new Path(p, MODEL_SUBDIR))));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model of " + stage.uid() + " to " + path + ": " + e.getMessage(), e);
        }
        DefaultParamsWriter.saveMetadata(stage, path, spark);
    }

    /** A saved stage of class {@code cls} (uid and params restored), or a bare model directory. */
    static <S extends Params, M> S load(String path, SparkSession spark, Class<S> cls, ModelReader<M> reader,
                                        StageFactory<S, M> factory) {
        try {
            Path p = new Path(path);
            FileSystem fs = fileSystem(p, spark);
            p = fs.makeQualified(p);
            if (fs.exists(new Path(p, "metadata"))) {
                var meta = DefaultParamsReader.loadMetadata(path, spark, cls.getName());
                S s = factory.make(meta.uid(), reader.read(Location.of(fs, new Path(p, MODEL_SUBDIR))));
                meta.getAndSetParams(s, scala.Option.empty());
                return s;
            }
            Location dir = Location.of(fs, p);
            if (!dir.isDirectory() || dir.child(ModelDir.CONFIG).exists()) {
                return factory.make(null, reader.read(dir));
            }
            throw new ModelFormatException(p + ": neither a saved " + cls.getSimpleName() + " (no metadata) nor a "
                    + "SeqSpark model directory (no " + ModelDir.CONFIG + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }
}
