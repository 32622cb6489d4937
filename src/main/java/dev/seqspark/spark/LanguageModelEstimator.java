package dev.seqspark.spark;

import static dev.seqspark.spark.SequenceClassifier.choice;
import static dev.seqspark.spark.SequenceClassifier.stringParam;
import static dev.seqspark.spark.SequenceClassifier.valid;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.text.Partitioning;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.OuterUpdate;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.TrainConfig;
import dev.seqspark.train.TrainingLoop;
import java.util.Arrays;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Estimator} that trains a SeqSpark language model (d2l's RNNModel) on a text column and returns
 * it as a {@link LanguageModelScorer}: the records, in the Dataset's order, are the corpus's lines (as
 * {@code seqspark train} reads a file), cut into W contiguous shards, trained with d2l's recipe (batch × num_steps,
 * state carried, clipping) and the outer update (averaging or BMUF) on the driver, without checkpoints.
 *
 * <pre>{@code
 * LanguageModelScorer lm = new LanguageModelEstimator().setTextCol("review").setCell("gru").setHiddenSize(128)
 *         .setEpochs(5).fit(reviews);
 * lm.transform(newReviews);        // + tokens, log_likelihood, perplexity, bits_per_token
 * }</pre>
 *
 * The returned scorer reads the same {@code textCol}. Every param has a default and a doc; the estimator copies,
 * works in a Pipeline / CrossValidator, and saves and loads ({@link MLWritable}, {@link #read()}).
 */
public final class LanguageModelEstimator extends Estimator<LanguageModelScorer> implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> textCol;
    private final Param<String> tokenLevel;
    private final BooleanParam lowercase;
    private final BooleanParam lettersOnly;
    private final IntParam minFreq;
    private final IntParam maxVocab;
    private final Param<String> cell;
    private final IntParam hiddenSize;
    private final IntParam numLayers;
    private final IntParam embeddingDim;
    private final DoubleParam dropout;
    private final IntParam batchSize;
    private final IntParam numSteps;
    private final Param<String> partitioning;
    private final IntParam epochs;
    private final Param<String> optimizer;
    private final DoubleParam learningRate;
    private final DoubleParam clip;
    private final LongParam seed;
    private final IntParam workers;
    private final IntParam syncEvery;
    private final Param<String> outer;
    private final DoubleParam blockMomentum;
    private final DoubleParam blockLr;

    public LanguageModelEstimator(String uid) {
        this.uid = uid;
        textCol = stringParam(this, "textCol", "the input column of text (string): each record is a line of the corpus",
                false);
        tokenLevel = choice(this, "tokenLevel", "tokens are characters (code points) or words (split on whitespace)",
                "char", "word");
        lowercase = new BooleanParam(this, "lowercase", "lower-case the text before tokenizing");
        lettersOnly = new BooleanParam(this, "lettersOnly", "d2l's cleaning: runs of non-letters become one space, "
                + "empty records vanish, records joined by spaces");
        minFreq = new IntParam(this, "minFreq", "tokens rarer than this map to <unk> (>= 0)", ParamValidators.gtEq(0));
        maxVocab = new IntParam(this, "maxVocab", "keep at most this many tokens, <unk> included (0 = no limit, else >= 2)",
                valid(v -> (Integer) v == 0 || (Integer) v >= 2));
        cell = choice(this, "cell", "the recurrent cell", "gru", "lstm", "rnn_tanh", "rnn_relu");
        hiddenSize = new IntParam(this, "hiddenSize", "features of the hidden state (> 0)", ParamValidators.gt(0));
        numLayers = new IntParam(this, "numLayers", "stacked recurrent layers (> 0)", ParamValidators.gt(0));
        embeddingDim = new IntParam(this, "embeddingDim", "0: one-hot input (d2l); E: a learned embedding (>= 0)",
                ParamValidators.gtEq(0));
        dropout = new DoubleParam(this, "dropout", "dropout between stacked layers, training only (in [0, 1))",
                ParamValidators.inRange(0, 1, true, false));
        batchSize = new IntParam(this, "batchSize", "sequences per minibatch on each worker (> 0)", ParamValidators.gt(0));
        numSteps = new IntParam(this, "numSteps", "time steps per minibatch, truncated BPTT (> 0)", ParamValidators.gt(0));
        partitioning = choice(this, "partitioning", "d2l's sequential (state carried) or random minibatches",
                "sequential", "random");
        epochs = new IntParam(this, "epochs", "passes over the corpus (> 0)", ParamValidators.gt(0));
        optimizer = choice(this, "optimizer", "torch.optim.SGD or torch.optim.Adam (default betas)", "sgd", "adam");
        learningRate = new DoubleParam(this, "learningRate", "the optimizer's learning rate (> 0)", ParamValidators.gt(0));
        clip = new DoubleParam(this, "clip", "max global gradient norm (0 = no clipping)", ParamValidators.gtEq(0));
        seed = new LongParam(this, "seed", "seed of the initial weights, layouts and dropout");
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
        setDefault(tokenLevel, "char");
        setDefault(lowercase, false);
        setDefault(lettersOnly, false);
        setDefault(minFreq, 0);
        setDefault(maxVocab, 0);
        setDefault(cell, "gru");
        setDefault(hiddenSize, 256);
        setDefault(numLayers, 1);
        setDefault(embeddingDim, 0);
        setDefault(dropout, 0.0);
        setDefault(batchSize, 32);
        setDefault(numSteps, 35);
        setDefault(partitioning, "sequential");
        setDefault(epochs, 10);
        setDefault(optimizer, "sgd");
        setDefault(learningRate, 1.0);
        setDefault(clip, 1.0);
        setDefault(seed, 0L);
        setDefault(workers, 0);
        setDefault(syncEvery, 0);
        setDefault(outer, "bmuf");
        setDefault(blockMomentum, -1.0);
        setDefault(blockLr, 1.0);
    }

    public LanguageModelEstimator() {
        this(Identifiable$.MODULE$.randomUID("lmEstimator"));
    }

    public static LanguageModelEstimator load(String path) {
        return read().load(path);
    }

    public static MLReader<LanguageModelEstimator> read() {
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
    public LanguageModelEstimator copy(ParamMap extra) {
        return copyValues(new LanguageModelEstimator(uid), extra);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String col = getTextCol();
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("the input has no text column '" + col + "' (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        if (!schema.apply(col).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the text column '" + col + "' is " + schema.apply(col).dataType().simpleString()
                    + ", not a string");
        }
        return schema;   // the scorer's columns depend on its own params; it checks them when it transforms
    }

    /** Trains on {@code dataset}'s text column; the scorer returned reads the same column and has this as parent. */
    @Override
    public LanguageModelScorer fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        var spark = dataset.sparkSession();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int w = getWorkers() > 0 ? getWorkers() : jsc.defaultParallelism();
        TokenizerConfig tok = new TokenizerConfig(TokenizerConfig.Level.fromId(getTokenLevel()), getLowercase(),
                getLettersOnly());
        TrainConfig tc = new TrainConfig(getBatchSize(), getNumSteps(), Partitioning.fromId(getPartitioning()), null,
                getOptimizer(), getLearningRate(), getClip(), getSeed());
        JavaRDD<String> lines = dataset.toDF().select(getTextCol()).javaRDD().map(r -> r.isNullAt(0) ? "" : r.getString(0));
        ShardedCorpus corpus = ShardedCorpus.build(spark, lines, "column '" + getTextCol() + "'", new Tokenizer(tok), null,
                getMinFreq(), getMaxVocab(), 0.0, w, tc.batchSize(), tc.numSteps(), ShardTrainer.minShardTokens(tc));
        ModelSpec spec = new ModelSpec(CellType.fromId(getCell()), corpus.vocab.size(), getEmbeddingDim(), getHiddenSize(),
                getNumLayers(), true, getDropout());
        OuterUpdate outerUpdate = getOuter().equals("average") ? OuterUpdate.average()
                : OuterUpdate.bmuf(getBlockMomentum() < 0 ? OuterUpdate.defaultMomentum(w) : getBlockMomentum(), getBlockLr());
        try (SparkWorkers sw = new SparkWorkers(jsc, corpus, spec, tc)) {
            ModelState start = ShardTrainer.initialState(spec, tc, tc.seed());
            ModelState last = new TrainingLoop(sw, getSyncEvery(), outerUpdate, null).run(start, 0, getEpochs());
            LanguageModelScorer s = new LanguageModelScorer(new Model(new ModelConfig(spec, tok), corpus.vocab, last.weights()))
                    .setTextCol(getTextCol());
            return s.setParent(this);
        } catch (TrainingLoop.DivergedException e) {
            throw new IllegalStateException(e.getMessage().replace("train.lr", "learningRate").replace("train.clip", "clip"), e);
        }
    }

    public Param<String> textCol() { return textCol; }
    public Param<String> tokenLevel() { return tokenLevel; }
    public BooleanParam lowercase() { return lowercase; }
    public BooleanParam lettersOnly() { return lettersOnly; }
    public IntParam minFreq() { return minFreq; }
    public IntParam maxVocab() { return maxVocab; }
    public Param<String> cell() { return cell; }
    public IntParam hiddenSize() { return hiddenSize; }
    public IntParam numLayers() { return numLayers; }
    public IntParam embeddingDim() { return embeddingDim; }
    public DoubleParam dropout() { return dropout; }
    public IntParam batchSize() { return batchSize; }
    public IntParam numSteps() { return numSteps; }
    public Param<String> partitioning() { return partitioning; }
    public IntParam epochs() { return epochs; }
    public Param<String> optimizer() { return optimizer; }
    public DoubleParam learningRate() { return learningRate; }
    public DoubleParam clip() { return clip; }
    public LongParam seed() { return seed; }
    public IntParam workers() { return workers; }
    public IntParam syncEvery() { return syncEvery; }
    public Param<String> outer() { return outer; }
    public DoubleParam blockMomentum() { return blockMomentum; }
    public DoubleParam blockLr() { return blockLr; }

    public String getTextCol() { return getOrDefault(textCol); }
    public String getTokenLevel() { return getOrDefault(tokenLevel); }
    public boolean getLowercase() { return (Boolean) getOrDefault(lowercase); }
    public boolean getLettersOnly() { return (Boolean) getOrDefault(lettersOnly); }
    public int getMinFreq() { return (Integer) getOrDefault(minFreq); }
    public int getMaxVocab() { return (Integer) getOrDefault(maxVocab); }
    public String getCell() { return getOrDefault(cell); }
    public int getHiddenSize() { return (Integer) getOrDefault(hiddenSize); }
    public int getNumLayers() { return (Integer) getOrDefault(numLayers); }
    public int getEmbeddingDim() { return (Integer) getOrDefault(embeddingDim); }
    public double getDropout() { return (Double) getOrDefault(dropout); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
    public int getNumSteps() { return (Integer) getOrDefault(numSteps); }
    public String getPartitioning() { return getOrDefault(partitioning); }
    public int getEpochs() { return (Integer) getOrDefault(epochs); }
    public String getOptimizer() { return getOrDefault(optimizer); }
    public double getLearningRate() { return (Double) getOrDefault(learningRate); }
    public double getClip() { return (Double) getOrDefault(clip); }
    public long getSeed() { return (Long) getOrDefault(seed); }
    public int getWorkers() { return (Integer) getOrDefault(workers); }
    public int getSyncEvery() { return (Integer) getOrDefault(syncEvery); }
    public String getOuter() { return getOrDefault(outer); }
    public double getBlockMomentum() { return (Double) getOrDefault(blockMomentum); }
    public double getBlockLr() { return (Double) getOrDefault(blockLr); }

    public LanguageModelEstimator setTextCol(String v) { set(textCol, v); return this; }
    public LanguageModelEstimator setTokenLevel(String v) { set(tokenLevel, v); return this; }
    public LanguageModelEstimator setLowercase(boolean v) { set(lowercase, v); return this; }
    public LanguageModelEstimator setLettersOnly(boolean v) { set(lettersOnly, v); return this; }
    public LanguageModelEstimator setMinFreq(int v) { set(minFreq, v); return this; }
    public LanguageModelEstimator setMaxVocab(int v) { set(maxVocab, v); return this; }
    public LanguageModelEstimator setCell(String v) { set(cell, v); return this; }
    public LanguageModelEstimator setHiddenSize(int v) { set(hiddenSize, v); return this; }
    public LanguageModelEstimator setNumLayers(int v) { set(numLayers, v); return this; }
    public LanguageModelEstimator setEmbeddingDim(int v) { set(embeddingDim, v); return this; }
    public LanguageModelEstimator setDropout(double v) { set(dropout, v); return this; }
    public LanguageModelEstimator setBatchSize(int v) { set(batchSize, v); return this; }
    public LanguageModelEstimator setNumSteps(int v) { set(numSteps, v); return this; }
    public LanguageModelEstimator setPartitioning(String v) { set(partitioning, v); return this; }
    public LanguageModelEstimator setEpochs(int v) { set(epochs, v); return this; }
    public LanguageModelEstimator setOptimizer(String v) { set(optimizer, v); return this; }
    public LanguageModelEstimator setLearningRate(double v) { set(learningRate, v); return this; }
    public LanguageModelEstimator setClip(double v) { set(clip, v); return this; }
    public LanguageModelEstimator setSeed(long v) { set(seed, v); return this; }
    public LanguageModelEstimator setWorkers(int v) { set(workers, v); return this; }
    public LanguageModelEstimator setSyncEvery(int v) { set(syncEvery, v); return this; }
    public LanguageModelEstimator setOuter(String v) { set(outer, v); return this; }
    public LanguageModelEstimator setBlockMomentum(double v) { set(blockMomentum, v); return this; }
    public LanguageModelEstimator setBlockLr(double v) { set(blockLr, v); return this; }
}
