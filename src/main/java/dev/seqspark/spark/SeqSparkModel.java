package dev.seqspark.spark;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.NetworkSpec;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What both SeqSpark Spark ML models share ({@link LanguageModelScorer}, {@link SequenceClassificationModel}): a
 * trained model, a text column, a batch size; the schema's checks (the text a string, the outputs named apart from
 * each other and the input's columns); the transform — the model broadcast once, every partition streamed through
 * it a block of records at a time ({@link RowBlocks}), every input column passed through; and persistence
 * ({@link StagePersistence}: Spark's params metadata and a SeqSpark model directory; a bare model directory loads
 * too).
 *
 * @param <M> the model itself, so that setters chain
 * @param <S> its network's spec
 */
public abstract class SeqSparkModel<M extends SeqSparkModel<M, S>, S extends NetworkSpec>
        extends org.apache.spark.ml.Model<M> implements MLWritable {
    private static final long serialVersionUID = 1L;

    /** A partition's rows with the outputs appended, made on an executor; must not hold the model's weights. */
    interface Rows<S extends NetworkSpec> extends Serializable {
        Iterator<Row> of(Iterator<Row> in, Model<S> model, int textIdx, JobProgress.Counters counters);
    }

    /** How a saved stage becomes a model: its uid (null for a bare model directory: a new one) and the model. */
    interface Factory<M, S extends NetworkSpec> extends Serializable {
        M make(String uid, Model<S> model);
    }

    private final String uid;
    private final Model<S> model;
    private final Param<String> textCol;
    private final IntParam batchSize;

    protected SeqSparkModel(String uid, Model<S> model, String textDoc) {
        if (model == null) {
            throw new IllegalArgumentException("model is null");
        }
        this.uid = uid;
        this.model = model;
        this.textCol = SeqSparkEstimator.stringParam(this, "textCol", textDoc, false);
        this.batchSize = new IntParam(this, "batchSize", "records run through the model together, rows of one batch "
                + "(> 0); affects speed and memory only, never the results", ParamValidators.gt(0));
        setDefault(textCol, "text");
        setDefault(batchSize, 128);
    }

    @SuppressWarnings("unchecked")
    protected final M self() {
        return (M) this;
    }

    /** A model of the same class with {@code uid} and {@code model} (as {@link #copy} needs). */
    abstract M make(String uid, Model<S> model);

    /** The columns this model appends, in order, under their current names. */
    abstract List<StructField> outputFields();

    /** What a partition's rows become; made on the driver, run on the executors. */
    abstract Rows<S> rows();

    /** The transform's result as Spark needs it (by default as it is). */
    Dataset<Row> finish(Dataset<Row> transformed, StructType schema) {
        return transformed;
    }

    @Override
    public String uid() { return uid; }

    /** The SeqSpark model: architecture, tokenizer, vocabulary (labels), weights. */
    public Model<S> model() { return model; }
    public Param<String> textCol() { return textCol; }
    public IntParam batchSize() { return batchSize; }

    public String getTextCol() { return getOrDefault(textCol); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }

    public M setTextCol(String value) { set(textCol, value); return self(); }
    public M setBatchSize(int value) { set(batchSize, value); return self(); }

    @Override
    public StructType transformSchema(StructType schema) {
        String col = getTextCol();
        List<String> in = Arrays.asList(schema.fieldNames());
        if (!in.contains(col)) {
            throw new IllegalArgumentException("input has no column '" + col + "'; columns: " + String.join(", ", in));
        }
        if (!schema.apply(col).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("column '" + col + "' is " + schema.apply(col).dataType().simpleString()
                    + ", not a string");
        }
        StructType out = schema;
        Set<String> names = new HashSet<>();
        for (StructField f : outputFields()) {
            if (in.contains(f.name())) {
                throw new IllegalArgumentException("input already has a column '" + f.name() + "'");
            }
            if (!names.add(f.name())) {
                throw new IllegalArgumentException("two output columns are both named '" + f.name() + "'");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) { return transformCounting(dataset, null); }

    /**
     * {@link #transform(Dataset)}, the tasks adding the records and tokens they run to {@code counters} as they go
     * (for progress reports; may be null).
     */
    public Dataset<Row> transformCounting(Dataset<?> dataset, JobProgress.Counters counters) {
        StructType out = transformSchema(dataset.schema());
        int textIdx = dataset.schema().fieldIndex(getTextCol());
        Rows<S> rows = rows();
        Broadcast<Model<S>> b = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext()).broadcast(model);
        MapPartitionsFunction<Row, Row> f = it -> rows.of(it, b.value(), textIdx, counters);
        return finish(dataset.toDF().mapPartitions(f, Encoders.row(out)), out);
    }

    /** A new model with the same uid and SeqSpark model (shared: it is immutable), these params, then {@code extra}. */
    @Override
    public M copy(ParamMap extra) { return copyValues(make(uid, model), extra).setParent(parent()); }

    /** Writes Spark's params metadata (as DefaultParamsWriter does) and the model directory under {@code path/model}. */
    @Override
    public MLWriter write() {
        M stage = self();
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                StagePersistence.save(stage, path, sparkSession(), dir -> ModelDir.write(dir, model, List.of(), false));
            }
        };
    }

    /** Spark's reader of a saved stage of class {@code cls}, or of a bare model directory of {@code kind}. */
    static <M extends SeqSparkModel<M, S>, S extends NetworkSpec> MLReader<M> reader(Class<M> cls, Class<S> kind,
                                                                                     Factory<M, S> factory) {
        return new MLReader<>() {
            @Override
            public M load(String path) {
                return StagePersistence.load(path, sparkSession(), cls, dir -> ModelDir.readForInference(dir, kind),
                        factory::make);
            }
        };
    }
}
