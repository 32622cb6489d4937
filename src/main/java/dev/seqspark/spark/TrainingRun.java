package dev.seqspark.spark;

import dev.seqspark.io.Checkpoint;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.nn.Blas;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.ClassifierTask;
import dev.seqspark.train.ClassifierTrainConfig;
import dev.seqspark.train.LanguageModelTask;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.OuterUpdate;
import dev.seqspark.train.Settings;
import dev.seqspark.train.Shard;
import dev.seqspark.train.SyncSchedule;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.Task;
import dev.seqspark.train.TokenShard;
import dev.seqspark.train.TrainConfig;
import dev.seqspark.train.TrainingLoop;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A training run on Spark, the same for both tasks and for every caller — {@code seqspark train} and both Spark ML
 * estimators: the settings resolved ({@link Settings}), the data read into W cached shards ({@link Corpus}), the
 * architecture completed from it (vocabulary size, classes), the {@link Task}, and the epochs run by
 * {@link TrainingLoop} on {@link SparkWorkers} — rounds, the outer update (averaging or BMUF), the listener
 * (progress, checkpoints). What is task-specific is in the task and the corpus; nothing here is.
 */
public final class TrainingRun<S extends Shard> implements AutoCloseable {

    /**
     * What a run reads: {@code train} (a language model's: its first column is the text, one line of the corpus per
     * record, in order; a classifier's: the text and label columns the settings name), a classifier's separate
     * validation records ({@code valid}, may be null), and {@code name} for messages.
     */
    public record Data(Dataset<Row> train, Dataset<Row> valid, String name) {}

    public final Settings settings;
    public final Corpus<S> corpus;
    public final Task<S> task;
    public final OuterUpdate outer;
    /** K batches per worker per round; 0: once per epoch. */
    public final SyncSchedule syncEvery;
    /** Whether a round starts before the one before it is combined (dist.overlap). */
    public final boolean overlap;
    private final ModelConfig<?> config;
    private final List<String> labels;
    private final SparkWorkers<S> workers;
    private final String master;
    /** Seconds the data took to read and shard. */
    public final double prepareSeconds;

    private TrainingRun(SparkSession spark, Settings settings, Corpus<S> corpus, Task<S> task, ModelConfig<?> config,
                        List<String> labels, double prepareSeconds) {
        int w = corpus.workers();
        this.settings = settings;
        this.corpus = corpus;
        this.task = task;
        this.config = config;
        this.labels = labels;
        this.outer = settings.outerUpdate(w);
        int fewest = Integer.MAX_VALUE;
        for (int k = 0; k < w; k++) {
            fewest = Math.min(fewest, task.batches(corpus.shardSize(k), 0, k));
        }
        this.syncEvery = settings.syncEvery(w, fewest);
        this.overlap = settings.overlap(w);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String rounds = settings.get("dist.rounds");
        this.workers = new SparkWorkers<>(jsc, corpus, task, rounds.equals("auto") ? SparkWorkers.auto(jsc)
                : SparkWorkers.Rounds.valueOf(rounds.toUpperCase(java.util.Locale.ROOT)),
                settings.getInt("dist.rounds_port"));
        this.master = jsc.master();
        this.prepareSeconds = prepareSeconds;
    }

    /**
     * Reads {@code data} into shards and builds the task. With {@code init} (fine-tuning, resuming) its tokenizer,
     * vocabulary, labels and architecture are used, and the settings' are ignored; it must be of the settings' task.
     */
    public static TrainingRun<?> prepare(SparkSession spark, Settings settings, Data data, Model<?> init) {
        long t0 = System.nanoTime();
        int w = settings.workers(spark.sparkContext().defaultParallelism());
        TokenizerConfig tok = init != null ? init.config().tokenizer() : settings.tokenizer();
        if (settings.task().equals(Settings.CLASSIFY)) {
            int maxLength = init != null ? init.config().maxLength() : settings.getInt("data.max_length");
            ClassifierCorpus.Options o = new ClassifierCorpus.Options(settings.get("data.text_col"),
                    settings.get("data.label_col"), new Tokenizer(tok), settings.getInt("data.min_freq"),
                    settings.getInt("data.max_vocab"), maxLength, settings.getDouble("data.valid_fraction"),
                    settings.getLong("train.seed"), w);
            ClassifierCorpus corpus = ClassifierCorpus.build(spark, data.train(), data.valid(), o,
                    init == null ? null : init.vocab(), init == null ? null : new Labels(init.labels(), false));
            try {
                ClassifierSpec spec = init != null ? (ClassifierSpec) init.spec()
                        : settings.classifierSpec(corpus.vocab.size(), corpus.labels.size());
                ClassifierTrainConfig cfg = settings.classifierTrainConfig(corpus.labels.names(), corpus.trainPerClass);
                return new TrainingRun<>(spark, settings, corpus, new ClassifierTask(spec, cfg),
                        new ModelConfig<>(spec, tok, maxLength), corpus.labels.names(), seconds(t0));
            } catch (RuntimeException e) {
                corpus.close();
                throw e;
            }
        }
        TrainConfig tc = settings.trainConfig();
        JavaRDD<String> lines = data.train().javaRDD().map(r -> r.isNullAt(0) ? "" : r.getString(0));
        ShardedCorpus corpus = ShardedCorpus.build(spark, lines, data.name(), new Tokenizer(tok),
                init == null ? null : init.vocab(), settings.getInt("data.min_freq"), settings.getInt("data.max_vocab"),
                settings.getDouble("data.valid_fraction"), w, tc.batchSize(), tc.numSteps(), TokenShard.minTokens(tc));
        try {
            LanguageModelSpec spec = init != null ? (LanguageModelSpec) init.spec()
                    : settings.languageModelSpec(corpus.vocab.size());
            return new TrainingRun<>(spark, settings, corpus, new LanguageModelTask(spec, tc, corpus.validDims),
                    new ModelConfig<>(spec, tok), List.of(), seconds(t0));
        } catch (RuntimeException e) {
            corpus.close();
            throw e;
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** W. */
    public int workers() {
        return corpus.workers();
    }

    /**
     * Where training starts: a checkpoint's state (resuming; {@code init} is then the checkpoint's model), else
     * {@code init}'s weights with a fresh optimizer (fine-tuning), else PyTorch-style weights from the seed.
     */
    public ModelState start(Model<?> init, Checkpoint.State checkpoint) {
        if (checkpoint != null) {
            return new ModelState(init.weights(), checkpoint.optimizerState(), checkpoint.optimizerSteps(),
                    checkpoint.blockMomentum());
        }
        return init != null ? ShardTrainer.startingFrom(task, init.weights()) : ShardTrainer.initialState(task);
    }

    /** Trains epochs [firstEpoch, epochs) from {@code start}; the listener (may be null) hears every round and epoch. */
    public ModelState run(ModelState start, int firstEpoch, int epochs, TrainingLoop.Listener listener) {
        return new TrainingLoop(workers, syncEvery::batches, outer, overlap, listener).run(start, firstEpoch, epochs);
    }

    /** The trained model of {@code weights}, as a model directory holds it. */
    public Model<?> model(float[] weights) {
        return modelOf(config, weights);
    }

    private <T extends NetworkSpec> Model<T> modelOf(ModelConfig<T> c, float[] weights) {
        return new Model<>(c, corpus.vocab, labels, weights);
    }

    /** Where the rounds spent their time, in one line. */
    public String describeRounds() {
        return workers.describeRounds();
    }

    /** The run in one line: architecture, parameters, workers, recipe, outer update, BLAS. */
    public String describe(long parameters) {
        return String.format("%s, %,d parameters; %d workers on %s; %s; %s %s; BLAS %s", task.describe(), parameters,
                workers(), master, task.recipe(), outer, syncEvery + (overlap ? ", overlapped" : ""), Blas.describe());
    }

    @Override
    public void close() {
        workers.close();
    }
}
