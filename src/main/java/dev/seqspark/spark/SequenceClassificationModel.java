package dev.seqspark.spark;

import dev.seqspark.io.Model;
import dev.seqspark.model.Classifier;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.score.ClassifierPredictor;
import dev.seqspark.score.Scorer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A trained SeqSpark sequence classifier as a Spark ML {@link org.apache.spark.ml.Model} (what
 * {@link SequenceClassifier#fit} returns): for every record of a text column, the columns Spark's own
 * classifiers add — {@code rawPrediction} (the logits, a Vector), {@code probability} (their softmax, a Vector)
 * and {@code prediction} (the class index of the largest logit, a double, with the label names as its nominal ML
 * attribute so that {@code IndexToString} needs no labels of its own) — so MulticlassClassificationEvaluator,
 * BinaryClassificationEvaluator, CrossValidator and the rest work as with Spark's classifiers.
 *
 * <pre>{@code
 * SequenceClassificationModel m = SequenceClassificationModel.load("models/authorship");  // or what fit returned
 * Dataset<Row> out = m.setTextCol("passage").transform(df);   // + rawPrediction, probability, prediction
 * m.labels();                                                  // ["dickens", "twain"]: class index -> name
 * }</pre>
 *
 * <h2>Parameters</h2>
 * <ul>
 * <li>{@code textCol} – the input column of text (string). Default {@code "text"}.
 * <li>{@code rawPredictionCol}, {@code probabilityCol}, {@code predictionCol} – output columns; {@code ""} leaves
 *     that column out (as with Spark's classifiers). Defaults {@code rawPrediction}, {@code probability},
 *     {@code prediction}.
 * <li>{@code batchSize} – records predicted together; speed and memory only, never the results. Default 128.
 * </ul>
 * A record with no token (a null or empty text, or nothing left after the tokenizer's cleaning) gets null in every
 * output column. The text is tokenized as the model was trained (its tokenizer, vocabulary with {@code <unk>} for
 * unknown tokens, and max_length cut). Every input column passes through unchanged.
 *
 * <h2>Persistence</h2>
 * {@link MLWritable} and {@link #read()}/{@link #load(String)}: {@code path/metadata} (Spark's params metadata) and
 * {@code path/model} (a SeqSpark classifier model directory); a bare model directory (as {@code seqspark train
 * --task classify} writes it) loads too. Paths are Hadoop paths, resolved as Spark resolves them.
 */
public final class SequenceClassificationModel extends SeqSparkModel<SequenceClassificationModel, ClassifierSpec> {
    private static final long serialVersionUID = 1L;

    private final Param<String> rawPredictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> predictionCol;

    public SequenceClassificationModel(String uid, Model<ClassifierSpec> model) {
        super(uid, model, "the input column of text (string)");
        this.rawPredictionCol = SeqSparkEstimator.stringParam(this, "rawPredictionCol",
                "output column (vector): the logits, one per class; \"\" = no such column", true);
        this.probabilityCol = SeqSparkEstimator.stringParam(this, "probabilityCol",
                "output column (vector): softmax of the logits, one probability per class; \"\" = no such column", true);
        this.predictionCol = SeqSparkEstimator.stringParam(this, "predictionCol",
                "output column (double): the class index of the largest logit; \"\" = no such column", true);
        setDefault(rawPredictionCol, "rawPrediction");
        setDefault(probabilityCol, "probability");
        setDefault(predictionCol, "prediction");
    }

    public SequenceClassificationModel(Model<ClassifierSpec> model) {
        this(Identifiable$.MODULE$.randomUID("seqClassifierModel"), model);
    }

    public static SequenceClassificationModel load(String path) { return read().load(path); }

    public static MLReader<SequenceClassificationModel> read() {
        return reader(SequenceClassificationModel.class, ClassifierSpec.class,
                (uid, m) -> uid == null ? new SequenceClassificationModel(m) : new SequenceClassificationModel(uid, m));
    }

    @Override
    SequenceClassificationModel make(String uid, Model<ClassifierSpec> model) {
        return new SequenceClassificationModel(uid, model);
    }

    /** The label name of every class index. */
    public String[] labels() { return model().labels().toArray(String[]::new); }
    public int numClasses() { return model().spec().numClasses(); }
    public Param<String> rawPredictionCol() { return rawPredictionCol; }
    public Param<String> probabilityCol() { return probabilityCol; }
    public Param<String> predictionCol() { return predictionCol; }

    public String getRawPredictionCol() { return getOrDefault(rawPredictionCol); }
    public String getProbabilityCol() { return getOrDefault(probabilityCol); }
    public String getPredictionCol() { return getOrDefault(predictionCol); }

    public SequenceClassificationModel setRawPredictionCol(String v) { set(rawPredictionCol, v); return this; }
    public SequenceClassificationModel setProbabilityCol(String v) { set(probabilityCol, v); return this; }
    public SequenceClassificationModel setPredictionCol(String v) { set(predictionCol, v); return this; }

    @Override
    public StructType transformSchema(StructType schema) {
        if (outputFields().isEmpty()) {
            throw new IllegalArgumentException("rawPredictionCol, probabilityCol and predictionCol are all \"\": nothing to output");
        }
        return super.transformSchema(schema);
    }

    /** The columns this model appends, in order: rawPrediction, probability, prediction (those not set to ""). */
    @Override
    List<StructField> outputFields() {
        List<StructField> f = new ArrayList<>();
        if (!getRawPredictionCol().isEmpty()) {
            f.add(DataTypes.createStructField(getRawPredictionCol(), SQLDataTypes.VectorType(), true));
        }
        if (!getProbabilityCol().isEmpty()) {
            f.add(DataTypes.createStructField(getProbabilityCol(), SQLDataTypes.VectorType(), true));
        }
        if (!getPredictionCol().isEmpty()) {
            f.add(DataTypes.createStructField(getPredictionCol(), DataTypes.DoubleType, true,
                    NominalAttribute.defaultAttr().withName(getPredictionCol()).withValues(labels()).toMetadata()));
        }
        return f;
    }

    @Override
    Rows<ClassifierSpec> rows() {
        int rows = getBatchSize();
        boolean raw = !getRawPredictionCol().isEmpty();
        boolean prob = !getProbabilityCol().isEmpty();
        boolean pred = !getPredictionCol().isEmpty();
        return (in, model, textIdx, counters) -> new Predicted(in, new ClassifierPredictor(model, rows, Scorer.CHUNK_STEPS),
                textIdx, counters, raw, prob, pred);
    }

    /** mapPartitions keeps the types, not the metadata: the labels go on the prediction column again. */
    @Override
    Dataset<Row> finish(Dataset<Row> transformed, StructType schema) {
        return getPredictionCol().isEmpty() ? transformed
                : transformed.withMetadata(getPredictionCol(), schema.apply(getPredictionCol()).metadata());
    }

    @Override
    public String toString() {
        return "SequenceClassificationModel: uid=" + uid() + ", classes=" + model().labels() + ", blocks="
                + ClassifierSpec.formatBlocks(model().spec().blocks()) + ", pooling=" + model().spec().pooling().id;
    }

    /** A partition's rows with their predictions appended, a block of records at a time. */
    private static final class Predicted extends RowBlocks<float[]> {
        private final ClassifierPredictor predictor;
        private final boolean raw;
        private final boolean prob;
        private final boolean pred;

        Predicted(Iterator<Row> in, ClassifierPredictor predictor, int textIdx, JobProgress.Counters counters, boolean raw,
                  boolean prob, boolean pred) {
            super(in, textIdx, counters);
            this.predictor = predictor;
            this.raw = raw;
            this.prob = prob;
            this.pred = pred;
        }

        @Override
        protected List<float[]> run(List<String> texts) {
            List<int[]> ids = new ArrayList<>(texts.size());
            long tokens = 0;
            for (String t : texts) {
                ids.add(predictor.encode(t));
                tokens += ids.get(ids.size() - 1).length;
            }
            List<float[]> logits = Arrays.asList(predictor.predict(ids));
            count(texts.size(), tokens);
            return logits;
        }

        /** Null in every output column for a record without a token ({@code z} null). */
        @Override
        protected Object[] appended(float[] z) {
            Object[] v = new Object[(raw ? 1 : 0) + (prob ? 1 : 0) + (pred ? 1 : 0)];
            if (z == null) {
                return v;
            }
            int k = 0;
            if (raw) {
                double[] d = new double[z.length];
                for (int j = 0; j < z.length; j++) {
                    d[j] = z[j];
                }
                v[k++] = Vectors.dense(d);
            }
            if (prob) {   // softmax in double: the probabilities sum to 1 to double precision
                double max = Double.NEGATIVE_INFINITY;
                for (float x : z) {
                    max = Math.max(max, x);
                }
                double[] d = new double[z.length];
                double sum = 0;
                for (int j = 0; j < z.length; j++) {
                    d[j] = Math.exp(z[j] - max);
                    sum += d[j];
                }
                for (int j = 0; j < z.length; j++) {
                    d[j] /= sum;
                }
                v[k++] = Vectors.dense(d);
            }
            if (pred) {
                v[k] = (double) Classifier.argmax(z, 0, z.length);
            }
            return v;
        }
    }
}
