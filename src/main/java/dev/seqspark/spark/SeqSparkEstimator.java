package dev.seqspark.spark;

import dev.seqspark.train.ModelState;
import dev.seqspark.train.Settings;
import dev.seqspark.train.TrainingLoop;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What both SeqSpark estimators share ({@link LanguageModelEstimator}, {@link SequenceClassifier}): the params of
 * the tokenizer, the recipe and the distribution, each with a default and a doc, and {@code fit} — the params
 * become the run's {@link Settings} (so they are resolved exactly as {@code seqspark train} resolves its settings)
 * and {@link TrainingRun} trains on the Dataset, without checkpoints. Params are Spark ML's: found by reflection
 * over the public accessors, copied with a ParamMap, saved and loaded by DefaultParamsWriter/Reader.
 *
 * @param <M> the model fit returns
 * @param <E> the estimator itself, so that setters chain
 */
public abstract class SeqSparkEstimator<M extends org.apache.spark.ml.Model<M>, E extends SeqSparkEstimator<M, E>>
        extends Estimator<M> implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> textCol;
    private final Param<String> tokenLevel;
    private final BooleanParam lowercase;
    private final BooleanParam lettersOnly;
    private final IntParam minFreq;
    private final IntParam maxVocab;
    private final IntParam embeddingDim;
    private final IntParam batchSize;
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
    private final BooleanParam overlap;
    private final Param<String> rounds;

    protected SeqSparkEstimator(String uid) {
        this.uid = uid;
        textCol = stringParam(this, "textCol", "the input column of text (string)", false);
        tokenLevel = choice(this, "tokenLevel", "tokens are characters (code points) or words (split on whitespace)",
                "char", "word");
        lowercase = new BooleanParam(this, "lowercase", "lower-case the text before tokenizing");
        lettersOnly = new BooleanParam(this, "lettersOnly", "d2l's cleaning: every run of characters other than ASCII "
                + "letters becomes one space");
        minFreq = new IntParam(this, "minFreq", "tokens seen fewer times in the training data map to <unk> (>= 0)",
                ParamValidators.gtEq(0));
        maxVocab = new IntParam(this, "maxVocab", "keep at most this many tokens, <unk> included, the most frequent "
                + "(0 = no limit, else >= 2)", valid(v -> (Integer) v == 0 || (Integer) v >= 2));
        embeddingDim = new IntParam(this, "embeddingDim", "width of the learned embedding; 0 = one-hot input (>= 0)",
                ParamValidators.gtEq(0));
        batchSize = new IntParam(this, "batchSize", "examples per minibatch on each worker: sequences of numSteps "
                + "tokens, or records (> 0)", ParamValidators.gt(0));
        epochs = new IntParam(this, "epochs", "passes over the training data (> 0)", ParamValidators.gt(0));
        optimizer = choice(this, "optimizer", "torch.optim.SGD or torch.optim.Adam (default betas)", "sgd", "adam");
        learningRate = new DoubleParam(this, "learningRate", "the optimizer's learning rate (> 0)", ParamValidators.gt(0));
        clip = new DoubleParam(this, "clip", "max global gradient norm, clip_grad_norm_ (0 = no clipping)",
                ParamValidators.gtEq(0));
        seed = new LongParam(this, "seed", "seed of the initial weights, layouts, batch order, validation split and dropout");
        workers = new IntParam(this, "workers", "W, shards trained in parallel (0 = Spark's default parallelism)",
                ParamValidators.gtEq(0));
        syncEvery = new IntParam(this, "syncEvery", "combine the workers' models every K batches (0 = once per epoch)",
                ParamValidators.gtEq(0));
        outer = choice(this, "outer", "how the driver combines the workers' models: block momentum (BMUF) or averaging",
                "bmuf", "average");
        blockMomentum = new DoubleParam(this, "blockMomentum", "BMUF's block momentum in [0, 1); -1 = 1 - 1/W",
                valid(v -> (Double) v == -1 || ((Double) v >= 0 && (Double) v < 1)));
        blockLr = new DoubleParam(this, "blockLr", "BMUF's block learning rate (> 0)", ParamValidators.gt(0));
        overlap = new BooleanParam(this, "overlap", "start each round before the driver has combined the one before "
                + "(dist.overlap): the round's cost hides behind training, each outer update lands a round late");
        rounds = choice(this, "rounds", "how rounds reach the executors (dist.rounds): one Spark job an epoch whose tasks "
                + "read each round from a socket the driver serves, a Spark job a round, or auto (stream unless "
                + "dynamic allocation is on)", "auto", "stream", "jobs");
        setDefault(textCol, "text");
        setDefault(batchSize, 32);
        setDefault(epochs, 10);
        setDefault(clip, 1.0);
        setDefault(seed, 0L);
        setDefault(workers, 0);
        setDefault(syncEvery, 0);
        setDefault(outer, "bmuf");
        setDefault(blockMomentum, -1.0);
        setDefault(blockLr, 1.0);
        setDefault(overlap, false);
        setDefault(rounds, "auto");
    }

    /** The defaults where the tasks differ: tokenizer, vocabulary, input, optimizer. */
    protected void setTaskDefaults(String level, boolean lower, boolean letters, int minCount, int vocabCap, int embedding,
                                   String optimizerName, double lr) {
        setDefault(tokenLevel, level);
        setDefault(lowercase, lower);
        setDefault(lettersOnly, letters);
        setDefault(minFreq, minCount);
        setDefault(maxVocab, vocabCap);
        setDefault(embeddingDim, embedding);
        setDefault(optimizer, optimizerName);
        setDefault(learningRate, lr);
    }

    @SuppressWarnings("unchecked")
    protected final E self() {
        return (E) this;
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this);
    }

    /** The input must have the text column, a string. */
    @Override
    public StructType transformSchema(StructType schema) {
        String col = getTextCol();
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("the input has no text column '" + col + "' (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        if (!schema.apply(col).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the text column '" + col + "' is "
                    + schema.apply(col).dataType().simpleString() + ", not a string");
        }
        return schema;
    }

    /** The run's settings: the task's ({@code task}, then {@link #taskSettings}) and the shared params'. */
    final Settings settings() {
        Map<String, String> s = new LinkedHashMap<>();
        taskSettings(s);
        s.put("data.tokenizer.level", getTokenLevel());
        s.put("data.tokenizer.lowercase", String.valueOf(getLowercase()));
        s.put("data.tokenizer.letters_only", String.valueOf(getLettersOnly()));
        s.put("data.min_freq", String.valueOf(getMinFreq()));
        s.put("data.max_vocab", String.valueOf(getMaxVocab()));
        s.put("model.embedding_dim", String.valueOf(getEmbeddingDim()));
        s.put("train.batch_size", String.valueOf(getBatchSize()));
        s.put("train.epochs", String.valueOf(getEpochs()));
        s.put("train.optimizer", getOptimizer());
        s.put("train.lr", String.valueOf(getLearningRate()));
        s.put("train.clip", String.valueOf(getClip()));
        s.put("train.seed", String.valueOf(getSeed()));
        s.put("dist.workers", String.valueOf(getWorkers()));
        s.put("dist.sync_every", String.valueOf(getSyncEvery()));
        s.put("dist.outer", getOuter());
        s.put("dist.block_momentum", getBlockMomentum() < 0 ? "auto" : String.valueOf(getBlockMomentum()));
        s.put("dist.block_lr", String.valueOf(getBlockLr()));
        s.put("dist.overlap", String.valueOf(getOverlap()));
        s.put("dist.rounds", getRounds());
        return Settings.of(s, uid + "'s params", List.of());
    }

    /** The task and its own params as settings keys. */
    abstract void taskSettings(Map<String, String> settings);

    /** What the run reads of {@code dataset}. */
    abstract TrainingRun.Data data(Dataset<?> dataset);

    /** The Spark ML model of a trained model, with this estimator's output params. */
    abstract M model(dev.seqspark.io.Model<?> trained);

    /** Trains on {@code dataset} and returns the model, its parent this estimator. */
    @Override
    public M fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        Settings s = settings();
        try (TrainingRun<?> run = TrainingRun.prepare(dataset.sparkSession(), s, data(dataset), null)) {
            ModelState last = run.run(run.start(null, null), 0, getEpochs(), null);
            return model(run.model(last.weights())).setParent(this);
        } catch (TrainingLoop.DivergedException e) {
            throw new IllegalStateException(e.getMessage().replace("train.lr", "learningRate").replace("train.clip", "clip"), e);
        }
    }

    // ---- param helpers, for both estimators and both models

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

    // ---- accessors, getters, setters of the shared params

    public Param<String> textCol() { return textCol; }
    public Param<String> tokenLevel() { return tokenLevel; }
    public BooleanParam lowercase() { return lowercase; }
    public BooleanParam lettersOnly() { return lettersOnly; }
    public IntParam minFreq() { return minFreq; }
    public IntParam maxVocab() { return maxVocab; }
    public IntParam embeddingDim() { return embeddingDim; }
    public IntParam batchSize() { return batchSize; }
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
    public BooleanParam overlap() { return overlap; }
    public Param<String> rounds() { return rounds; }

    public String getTextCol() { return getOrDefault(textCol); }
    public String getTokenLevel() { return getOrDefault(tokenLevel); }
    public boolean getLowercase() { return (Boolean) getOrDefault(lowercase); }
    public boolean getLettersOnly() { return (Boolean) getOrDefault(lettersOnly); }
    public int getMinFreq() { return (Integer) getOrDefault(minFreq); }
    public int getMaxVocab() { return (Integer) getOrDefault(maxVocab); }
    public int getEmbeddingDim() { return (Integer) getOrDefault(embeddingDim); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
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
    public boolean getOverlap() { return (Boolean) getOrDefault(overlap); }
    public String getRounds() { return getOrDefault(rounds); }

    public E setTextCol(String v) { set(textCol, v); return self(); }
    public E setTokenLevel(String v) { set(tokenLevel, v); return self(); }
    public E setLowercase(boolean v) { set(lowercase, v); return self(); }
    public E setLettersOnly(boolean v) { set(lettersOnly, v); return self(); }
    public E setMinFreq(int v) { set(minFreq, v); return self(); }
    public E setMaxVocab(int v) { set(maxVocab, v); return self(); }
    public E setEmbeddingDim(int v) { set(embeddingDim, v); return self(); }
    public E setBatchSize(int v) { set(batchSize, v); return self(); }
    public E setEpochs(int v) { set(epochs, v); return self(); }
    public E setOptimizer(String v) { set(optimizer, v); return self(); }
    public E setLearningRate(double v) { set(learningRate, v); return self(); }
    public E setClip(double v) { set(clip, v); return self(); }
    public E setSeed(long v) { set(seed, v); return self(); }
    public E setWorkers(int v) { set(workers, v); return self(); }
    public E setSyncEvery(int v) { set(syncEvery, v); return self(); }
    public E setOuter(String v) { set(outer, v); return self(); }
    public E setBlockMomentum(double v) { set(blockMomentum, v); return self(); }
    public E setBlockLr(double v) { set(blockLr, v); return self(); }
    public E setOverlap(boolean v) { set(overlap, v); return self(); }
    public E setRounds(String v) { set(rounds, v); return self(); }
}
