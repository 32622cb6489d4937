package dev.seqspark.spark;

import dev.seqspark.nn.ClassifierSpec;
import dev.seqspark.nn.Pooling;
import dev.seqspark.optim.Optimizers;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.OuterUpdate;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Estimator} that trains a SeqSpark sequence classifier on a text column and a label column:
 * {@link #fit} returns a {@link SequenceClassificationModel}. Training is {@code seqspark train --task classify}'s
 * (the records in W shards cached on the executors, rounds of local minibatches bucketed by length, the outer
 * update — averaging or BMUF — on the driver; see {@link ClassifierTraining}), without checkpoints.
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
 * Every param has a default and a doc ({@code explainParams()}); the estimator copies with a ParamMap, works in a
 * Pipeline, CrossValidator and TrainValidationSplit, and saves and loads ({@link MLWritable}, {@link #read()}).
 */
public final class SequenceClassifier extends Estimator<SequenceClassificationModel> implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> textCol;
    private final Param<String> labelCol;
    private final Param<String> rawPredictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> predictionCol;
    private final Param<String> tokenLevel;
    private final BooleanParam lowercase;
    private final BooleanParam lettersOnly;
    private final IntParam minFreq;
    private final IntParam maxVocab;
    private final IntParam maxLength;
    private final IntParam embeddingDim;
    private final Param<String> blocks;
    private final Param<String> pooling;
    private final IntParam batchSize;
    private final IntParam epochs;
    private final Param<String> optimizer;
    private final DoubleParam learningRate;
    private final DoubleParam clip;
    private final Param<String> classWeights;
    private final DoubleParam validationFraction;
    private final LongParam seed;
    private final IntParam workers;
    private final IntParam syncEvery;
    private final Param<String> outer;
    private final DoubleParam blockMomentum;
    private final DoubleParam blockLr;

    public SequenceClassifier(String uid) {
        this.uid = uid;
        textCol = stringParam(this, "textCol", "the input column of text (string); null or empty texts are skipped", false);
        labelCol = stringParam(this, "labelCol", "the label column: a string (indexed by frequency, ties by name, as "
                + "StringIndexer) or a number holding class indices (e.g. a StringIndexer's output)", false);
        rawPredictionCol = stringParam(this, "rawPredictionCol", "the model's logits column (\"\" = none)", true);
        probabilityCol = stringParam(this, "probabilityCol", "the model's probability column (\"\" = none)", true);
        predictionCol = stringParam(this, "predictionCol", "the model's prediction column (\"\" = none)", true);
        tokenLevel = choice(this, "tokenLevel", "tokens are words (split on whitespace) or characters (code points)",
                "word", "char");
        lowercase = new BooleanParam(this, "lowercase", "lower-case the text before tokenizing");
        lettersOnly = new BooleanParam(this, "lettersOnly",
                "d2l's cleaning: every run of characters other than ASCII letters becomes one space");
        minFreq = new IntParam(this, "minFreq", "tokens seen fewer times in the training records map to <unk> (>= 0)",
                ParamValidators.gtEq(0));
        maxVocab = new IntParam(this, "maxVocab", "keep at most this many tokens, <unk> included, the most frequent "
                + "(0 = no limit, else >= 2)", valid(v -> (Integer) v == 0 || (Integer) v >= 2));
        maxLength = new IntParam(this, "maxLength", "records are cut to their first maxLength tokens (0 = no limit)",
                ParamValidators.gtEq(0));
        embeddingDim = new IntParam(this, "embeddingDim", "width of the learned embedding; 0 = one-hot input (>= 0)",
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
        batchSize = new IntParam(this, "batchSize", "records per minibatch on each worker (> 0)", ParamValidators.gt(0));
        epochs = new IntParam(this, "epochs", "passes over the training records (> 0)", ParamValidators.gt(0));
        optimizer = choice(this, "optimizer", "torch.optim.Adam (default betas) or torch.optim.SGD", "adam", "sgd");
        learningRate = new DoubleParam(this, "learningRate", "the optimizer's learning rate (> 0)", ParamValidators.gt(0));
        clip = new DoubleParam(this, "clip", "max global gradient norm, clip_grad_norm_ (0 = no clipping)",
                ParamValidators.gtEq(0));
        classWeights = new Param<>(this, "classWeights", "the cross-entropy's class weights: none, balanced "
                + "(n / (classes * n_c)) or LABEL=WEIGHT,... (1 for the labels not named)", serializable(s -> !s.isBlank()));
        validationFraction = new DoubleParam(this, "validationFraction", "records held out for the per-epoch validation, "
                + "drawn by (seed, position) (in [0, 1))", ParamValidators.inRange(0, 1, true, false));
        seed = new LongParam(this, "seed", "seed of the initial weights, the validation split, batch order and dropout");
        workers = new IntParam(this, "workers", "W, shards trained in parallel (0 = Spark's default parallelism)",
                ParamValidators.gtEq(0));
        syncEvery = new IntParam(this, "syncEvery", "combine the workers' models every K batches (0 = once per epoch)",
                ParamValidators.gtEq(0));
        outer = choice(this, "outer", "how the driver combines the workers' models: block momentum (BMUF) or averaging",
                "bmuf", "average");
        blockMomentum = new DoubleParam(this, "blockMomentum", "BMUF's block momentum in [0, 1); -1 = 1 - 1/W",
                valid(v -> (Double) v == -1 || ((Double) v >= 0 && (Double) v < 1)));
        blockLr = new DoubleParam(this, "blockLr", "BMUF's block learning rate (> 0)", ParamValidators.gt(0));
        setDefault(textCol, "text");
        setDefault(labelCol, "label");
        setDefault(rawPredictionCol, "rawPrediction");
        setDefault(probabilityCol, "probability");
        setDefault(predictionCol, "prediction");
        setDefault(tokenLevel, "word");
        setDefault(lowercase, true);
        setDefault(lettersOnly, true);
        setDefault(minFreq, 1);
        setDefault(maxVocab, 20000);
        setDefault(maxLength, 0);
        setDefault(embeddingDim, 64);
        setDefault(blocks, "lstm:128,gru:128");
        setDefault(pooling, "last");
        setDefault(batchSize, 32);
        setDefault(epochs, 10);
        setDefault(optimizer, "adam");
        setDefault(learningRate, 0.002);
        setDefault(clip, 1.0);
        setDefault(classWeights, "none");
        setDefault(validationFraction, 0.0);
        setDefault(seed, 0L);
        setDefault(workers, 0);
        setDefault(syncEvery, 0);
        setDefault(outer, "bmuf");
        setDefault(blockMomentum, -1.0);
        setDefault(blockLr, 1.0);
    }

    public SequenceClassifier() {
        this(Identifiable$.MODULE$.randomUID("seqClassifier"));
    }

    /** A String param; {@code allowEmpty} for output columns that "" turns off. */
    static Param<String> stringParam(Params owner, String name, String doc, boolean allowEmpty) {
        return new Param<>(owner, name, doc, serializable(s -> s != null && (allowEmpty || !s.isEmpty())));
    }

    static Param<String> choice(Params owner, String name, String doc, String... values) {
        List<String> ok = Arrays.asList(values);
        return new Param<>(owner, name, doc + " (" + String.join(" | ", values) + ")", serializable(ok::contains));
    }

    interface SerializablePredicate extends java.util.function.Predicate<String>, java.io.Serializable {}

    interface SerializableCheck extends java.util.function.Predicate<Object>, java.io.Serializable {}

    /** A numeric param's validator (Scala's Function1 over the boxed value). */
    static scala.Function1<Object, Object> valid(SerializableCheck p) {
        return (scala.Function1<Object, Object> & java.io.Serializable) p::test;
    }

    static scala.Function1<String, Object> serializable(SerializablePredicate p) {
        return (scala.Function1<String, Object> & java.io.Serializable) p::test;
    }

    public static SequenceClassifier load(String path) {
        return read().load(path);
    }

    public static MLReader<SequenceClassifier> read() {
        return new DefaultParamsReader<>();
    }

    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this);
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public SequenceClassifier copy(ParamMap extra) {
        return copyValues(new SequenceClassifier(uid), extra);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        List<String> in = Arrays.asList(schema.fieldNames());
        for (Param<String> p : List.of(textCol, labelCol)) {
            if (!in.contains(getOrDefault(p))) {
                throw new IllegalArgumentException("the input has no " + (p == textCol ? "text" : "label") + " column '"
                        + getOrDefault(p) + "' (columns: " + String.join(", ", in) + ")");
            }
        }
        if (!schema.apply(getTextCol()).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the text column '" + getTextCol() + "' is "
                    + schema.apply(getTextCol()).dataType().simpleString() + ", not a string");
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
        ClassifierSpec spec = new ClassifierSpec(1, 0, ClassifierSpec.parseBlocks("rnn_tanh:1"), Pooling.LAST, 2);
        var m = new dev.seqspark.io.ClassifierModel(new dev.seqspark.io.ClassifierConfig(spec, TokenizerConfig.chars(), 0),
                new dev.seqspark.text.Vocab(List.of("<unk>")), List.of("0", "1"), new float[spec.layout().size()]);
        return copyOutputs(new SequenceClassificationModel(uid, m));
    }

    private SequenceClassificationModel copyOutputs(SequenceClassificationModel m) {
        return m.setTextCol(getTextCol()).setRawPredictionCol(getOrDefault(rawPredictionCol))
                .setProbabilityCol(getOrDefault(probabilityCol)).setPredictionCol(getOrDefault(predictionCol));
    }

    /** Trains on {@code dataset}'s text and label columns and returns the model, its parent this estimator. */
    @Override
    public SequenceClassificationModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        var spark = dataset.sparkSession();
        int w = getWorkers() > 0 ? getWorkers()
                : JavaSparkContext.fromSparkContext(spark.sparkContext()).defaultParallelism();
        TokenizerConfig tok = new TokenizerConfig(TokenizerConfig.Level.fromId(getTokenLevel()), getLowercase(),
                getLettersOnly());
        ClassifierCorpus.Options data = new ClassifierCorpus.Options(getTextCol(), getLabelCol(), new Tokenizer(tok),
                getMinFreq(), getMaxVocab(), getMaxLength(), getValidationFraction(), getSeed(), w);
        ClassifierTraining.Plan plan = new ClassifierTraining.Plan(data, tok, getEmbeddingDim(),
                ClassifierSpec.parseBlocks(getBlocks()), Pooling.fromId(getPooling()), getBatchSize(), getOptimizer(),
                getLearningRate(), getClip(), getClassWeights(), getEpochs(), getSyncEvery(), getOuter(),
                getBlockMomentum() < 0 ? Double.NaN : getBlockMomentum(), getBlockLr());
        Optimizers.create(plan.optimizer(), 1, plan.lr());
        OuterUpdate.Rule.fromId(plan.outer());
        try (ClassifierTraining t = ClassifierTraining.prepare(spark, dataset.toDF(), null, plan, null)) {
            ModelState last = t.run(t.initialState(null), 0, null);
            SequenceClassificationModel m = copyOutputs(new SequenceClassificationModel(t.model(last.weights())));
            return m.setParent(this);
        } catch (dev.seqspark.train.TrainingLoop.DivergedException e) {
            throw new IllegalStateException(e.getMessage().replace("train.lr", "learningRate").replace("train.clip", "clip"), e);
        }
    }

    // ------------------------------------------------------------------ params: accessors, getters, setters

    public Param<String> textCol() { return textCol; }
    public Param<String> labelCol() { return labelCol; }
    public Param<String> rawPredictionCol() { return rawPredictionCol; }
    public Param<String> probabilityCol() { return probabilityCol; }
    public Param<String> predictionCol() { return predictionCol; }
    public Param<String> tokenLevel() { return tokenLevel; }
    public BooleanParam lowercase() { return lowercase; }
    public BooleanParam lettersOnly() { return lettersOnly; }
    public IntParam minFreq() { return minFreq; }
    public IntParam maxVocab() { return maxVocab; }
    public IntParam maxLength() { return maxLength; }
    public IntParam embeddingDim() { return embeddingDim; }
    public Param<String> blocks() { return blocks; }
    public Param<String> pooling() { return pooling; }
    public IntParam batchSize() { return batchSize; }
    public IntParam epochs() { return epochs; }
    public Param<String> optimizer() { return optimizer; }
    public DoubleParam learningRate() { return learningRate; }
    public DoubleParam clip() { return clip; }
    public Param<String> classWeights() { return classWeights; }
    public DoubleParam validationFraction() { return validationFraction; }
    public LongParam seed() { return seed; }
    public IntParam workers() { return workers; }
    public IntParam syncEvery() { return syncEvery; }
    public Param<String> outer() { return outer; }
    public DoubleParam blockMomentum() { return blockMomentum; }
    public DoubleParam blockLr() { return blockLr; }

    public String getTextCol() { return getOrDefault(textCol); }
    public String getLabelCol() { return getOrDefault(labelCol); }
    public String getTokenLevel() { return getOrDefault(tokenLevel); }
    public boolean getLowercase() { return (Boolean) getOrDefault(lowercase); }
    public boolean getLettersOnly() { return (Boolean) getOrDefault(lettersOnly); }
    public int getMinFreq() { return (Integer) getOrDefault(minFreq); }
    public int getMaxVocab() { return (Integer) getOrDefault(maxVocab); }
    public int getMaxLength() { return (Integer) getOrDefault(maxLength); }
    public int getEmbeddingDim() { return (Integer) getOrDefault(embeddingDim); }
    public String getBlocks() { return getOrDefault(blocks); }
    public String getPooling() { return getOrDefault(pooling); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
    public int getEpochs() { return (Integer) getOrDefault(epochs); }
    public String getOptimizer() { return getOrDefault(optimizer); }
    public double getLearningRate() { return (Double) getOrDefault(learningRate); }
    public double getClip() { return (Double) getOrDefault(clip); }
    public String getClassWeights() { return getOrDefault(classWeights); }
    public double getValidationFraction() { return (Double) getOrDefault(validationFraction); }
    public long getSeed() { return (Long) getOrDefault(seed); }
    public int getWorkers() { return (Integer) getOrDefault(workers); }
    public int getSyncEvery() { return (Integer) getOrDefault(syncEvery); }
    public String getOuter() { return getOrDefault(outer); }
    public double getBlockMomentum() { return (Double) getOrDefault(blockMomentum); }
    public double getBlockLr() { return (Double) getOrDefault(blockLr); }

    public SequenceClassifier setTextCol(String v) { set(textCol, v); return this; }
    public SequenceClassifier setLabelCol(String v) { set(labelCol, v); return this; }
    public SequenceClassifier setRawPredictionCol(String v) { set(rawPredictionCol, v); return this; }
    public SequenceClassifier setProbabilityCol(String v) { set(probabilityCol, v); return this; }
    public SequenceClassifier setPredictionCol(String v) { set(predictionCol, v); return this; }
    public SequenceClassifier setTokenLevel(String v) { set(tokenLevel, v); return this; }
    public SequenceClassifier setLowercase(boolean v) { set(lowercase, v); return this; }
    public SequenceClassifier setLettersOnly(boolean v) { set(lettersOnly, v); return this; }
    public SequenceClassifier setMinFreq(int v) { set(minFreq, v); return this; }
    public SequenceClassifier setMaxVocab(int v) { set(maxVocab, v); return this; }
    public SequenceClassifier setMaxLength(int v) { set(maxLength, v); return this; }
    public SequenceClassifier setEmbeddingDim(int v) { set(embeddingDim, v); return this; }
    public SequenceClassifier setBlocks(String v) { set(blocks, v); return this; }
    public SequenceClassifier setPooling(String v) { set(pooling, v); return this; }
    public SequenceClassifier setBatchSize(int v) { set(batchSize, v); return this; }
    public SequenceClassifier setEpochs(int v) { set(epochs, v); return this; }
    public SequenceClassifier setOptimizer(String v) { set(optimizer, v); return this; }
    public SequenceClassifier setLearningRate(double v) { set(learningRate, v); return this; }
    public SequenceClassifier setClip(double v) { set(clip, v); return this; }
    public SequenceClassifier setClassWeights(String v) { set(classWeights, v); return this; }
    public SequenceClassifier setValidationFraction(double v) { set(validationFraction, v); return this; }
    public SequenceClassifier setSeed(long v) { set(seed, v); return this; }
    public SequenceClassifier setWorkers(int v) { set(workers, v); return this; }
    public SequenceClassifier setSyncEvery(int v) { set(syncEvery, v); return this; }
    public SequenceClassifier setOuter(String v) { set(outer, v); return this; }
    public SequenceClassifier setBlockMomentum(double v) { set(blockMomentum, v); return this; }
    public SequenceClassifier setBlockLr(double v) { set(blockLr, v); return this; }
}
