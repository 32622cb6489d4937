package dev.seqspark.spark;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Pooling;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link org.apache.spark.ml.Estimator} that trains a SeqSpark sequence classifier on a text column and a label column:
 * {@link #fit} returns a {@link SequenceClassificationModel}. Training is {@code seqspark train --task classify}'s
 * (the records in W shards cached on the executors, rounds of local minibatches bucketed by length, the outer
 * update — averaging or BMUF — on the driver; see {@link TrainingRun}), without checkpoints.
 *
 * <pre>{@code
 * SequenceClassifier sc = new SequenceClassifier().setTextCol("passage").setLabelCol("author")
 *         .setBlocks("lstm:128,gru:128").setEpochs(8);
 * SequenceClassificationModel m = sc.fit(train);       // string labels are indexed as StringIndexer does
 * m.transform(test);                                   // + rawPrediction, probability, prediction
 * }</pre>
 *
 * The label column is a string (indexed as Spark's StringIndexer indexes it: by frequency, ties by name) or a
 * number holding class indices (a StringIndexer stage's output, whose label names are kept from its metadata).
 * Every param has a default and a doc ({@code explainParams()}; the shared ones: {@link SeqSparkEstimator}); the estimator copies with a ParamMap, works in a
 * Pipeline, CrossValidator and TrainValidationSplit, and saves and loads ({@link org.apache.spark.ml.util.MLWritable}, {@link #read()}).
 */
public final class SequenceClassifier extends SeqSparkEstimator<SequenceClassificationModel, SequenceClassifier> {
    private static final long serialVersionUID = 1L;

    private final Param<String> labelCol;
    private final Param<String> rawPredictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> predictionCol;
    private final IntParam maxLength;
    private final Param<String> blocks;
    private final Param<String> pooling;
    private final Param<String> classWeights;
    private final DoubleParam validationFraction;

    public SequenceClassifier(String uid) {
        super(uid);
        labelCol = stringParam(this, "labelCol", "the label column: a string (indexed by frequency, ties by name, as "
                + "StringIndexer) or a number holding class indices (e.g. a StringIndexer's output)", false);
        rawPredictionCol = stringParam(this, "rawPredictionCol", "the model's logits column (\"\" = none)", true);
        probabilityCol = stringParam(this, "probabilityCol", "the model's probability column (\"\" = none)", true);
        predictionCol = stringParam(this, "predictionCol", "the model's prediction column (\"\" = none)", true);
        maxLength = new IntParam(this, "maxLength", "records are cut to their first maxLength tokens (0 = no limit)",
                ParamValidators.gtEq(0));
        blocks = new Param<>(this, "blocks", "the recurrent blocks, each reading the previous one's output: "
                + "CELL:HIDDEN[:layers=N][:bi][:dropout=P][:name=X], comma-separated (cells rnn_tanh, rnn_relu, gru, lstm)",
                serializable(s -> {
                    try {
                        ClassifierSpec.parseBlocks(s);
                        return true;
                    } catch (IllegalArgumentException e) {
                        return false;
                    }
                }));
        pooling = choice(this, "pooling", "how the last block's states become one vector per record, over its valid "
                + "steps: the state at the last step (both directions' final states when bidirectional), the mean, the max",
                "last", "mean", "max");
        classWeights = new Param<>(this, "classWeights", "the cross-entropy's class weights: none, balanced "
                + "(n / (classes * n_c)) or LABEL=WEIGHT,... (1 for the labels not named)", serializable(s -> !s.isBlank()));
        validationFraction = new DoubleParam(this, "validationFraction", "records held out for the per-epoch validation, "
                + "drawn by (seed, position) (in [0, 1))", ParamValidators.inRange(0, 1, true, false));
        setTaskDefaults("word", true, true, 1, 20000, 64, "adam", 0.002);
        setDefault(labelCol, "label");
        setDefault(rawPredictionCol, "rawPrediction");
        setDefault(probabilityCol, "probability");
        setDefault(predictionCol, "prediction");
        setDefault(maxLength, 0);
        setDefault(blocks, "lstm:128,gru:128");
        setDefault(pooling, "last");
        setDefault(classWeights, "none");
        setDefault(validationFraction, 0.0);
    }

    public SequenceClassifier() {
        this(Identifiable$.MODULE$.randomUID("seqClassifier"));
    }

    public static SequenceClassifier load(String path) {
        return read().load(path);
    }

    public static MLReader<SequenceClassifier> read() {
        return new DefaultParamsReader<>();
    }

    @Override
    public SequenceClassifier copy(ParamMap extra) {
        return copyValues(new SequenceClassifier(uid()), extra);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        super.transformSchema(schema);
        List<String> in = Arrays.asList(schema.fieldNames());
        if (!in.contains(getLabelCol())) {
            throw new IllegalArgumentException("the input has no label column '" + getLabelCol() + "' (columns: "
                    + String.join(", ", in) + ")");
        }
        var label = schema.apply(getLabelCol()).dataType();
        if (!(label instanceof NumericType) && !label.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the label column '" + getLabelCol() + "' is " + label.simpleString()
                    + "; expected a string or a number");
        }
        return modelPrototype().transformSchema(schema);
    }

    /** A model with this estimator's output columns, for the schema (its weights are never used). */
    private SequenceClassificationModel modelPrototype() {
        ClassifierSpec spec = new ClassifierSpec(1, 0, List.of(RecurrentBlock.of("rnn", CellType.RNN_TANH, 1, 1)),
                Pooling.LAST, 2);
        var m = new Model<>(new ModelConfig<>(spec, TokenizerConfig.chars(), 0), new Vocab(List.of("<unk>")),
                List.of("0", "1"), new float[spec.layout().size()]);
        return copyOutputs(new SequenceClassificationModel(uid(), m));
    }

    private SequenceClassificationModel copyOutputs(SequenceClassificationModel m) {
        return m.setTextCol(getTextCol()).setRawPredictionCol(getOrDefault(rawPredictionCol))
                .setProbabilityCol(getOrDefault(probabilityCol)).setPredictionCol(getOrDefault(predictionCol));
    }

    @Override
    void taskSettings(Map<String, String> s) {
        s.put("task", "classify");
        s.put("data.text_col", getTextCol());
        s.put("data.label_col", getLabelCol());
        s.put("data.max_length", String.valueOf(getMaxLength()));
        s.put("data.valid_fraction", String.valueOf(getValidationFraction()));
        s.put("model.blocks", getBlocks());
        s.put("model.pooling", getPooling());
        s.put("train.class_weights", getClassWeights());
    }

    @Override
    TrainingRun.Data data(Dataset<?> dataset) {
        return new TrainingRun.Data(dataset.toDF(), null, "columns '" + getTextCol() + "', '" + getLabelCol() + "'");
    }

    @Override
    @SuppressWarnings("unchecked")
    SequenceClassificationModel model(Model<?> trained) {
        return copyOutputs(new SequenceClassificationModel((Model<ClassifierSpec>) trained));
    }

    public Param<String> labelCol() { return labelCol; }
    public Param<String> rawPredictionCol() { return rawPredictionCol; }
    public Param<String> probabilityCol() { return probabilityCol; }
    public Param<String> predictionCol() { return predictionCol; }
    public IntParam maxLength() { return maxLength; }
    public Param<String> blocks() { return blocks; }
    public Param<String> pooling() { return pooling; }
    public Param<String> classWeights() { return classWeights; }
    public DoubleParam validationFraction() { return validationFraction; }

    public String getLabelCol() { return getOrDefault(labelCol); }
    public int getMaxLength() { return (Integer) getOrDefault(maxLength); }
    public String getBlocks() { return getOrDefault(blocks); }
    public String getPooling() { return getOrDefault(pooling); }
    public String getClassWeights() { return getOrDefault(classWeights); }
    public double getValidationFraction() { return (Double) getOrDefault(validationFraction); }

    public SequenceClassifier setLabelCol(String v) { set(labelCol, v); return this; }
    public SequenceClassifier setRawPredictionCol(String v) { set(rawPredictionCol, v); return this; }
    public SequenceClassifier setProbabilityCol(String v) { set(probabilityCol, v); return this; }
    public SequenceClassifier setPredictionCol(String v) { set(predictionCol, v); return this; }
    public SequenceClassifier setMaxLength(int v) { set(maxLength, v); return this; }
    public SequenceClassifier setBlocks(String v) { set(blocks, v); return this; }
    public SequenceClassifier setPooling(String v) { set(pooling, v); return this; }
    public SequenceClassifier setClassWeights(String v) { set(classWeights, v); return this; }
    public SequenceClassifier setValidationFraction(double v) { set(validationFraction, v); return this; }
}
