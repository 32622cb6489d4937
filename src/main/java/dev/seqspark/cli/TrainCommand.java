package dev.seqspark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.io.Checkpoint;
import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.io.ModelDir;
import dev.seqspark.io.OutputDir;
import dev.seqspark.nn.Blas;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.optim.Optimizers;
import dev.seqspark.spark.Sessions;
import dev.seqspark.spark.ShardedCorpus;
import dev.seqspark.spark.SparkWorkers;
import dev.seqspark.text.Partitioning;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.Generator;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.OuterUpdate;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.TrainConfig;
import dev.seqspark.train.TrainingLoop;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code seqspark train}: distributed training of a language model on Spark; see conf/*.properties for every setting. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a recurrent language model (--task lm, the default) or a sequence classifier (--task",
                "classify) on Spark: the data is cut into W shards, every worker trains its shard, the driver combines",
                "the workers' models (block momentum, BMUF) every dist.sync_every batches. After every epoch DIR holds a",
                "usable model directory and a checkpoint."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--task", paramLabel = "TASK", description = "lm (a language model) or classify (a sequence "
            + "classifier); the same as --set task=TASK (default: the config's task, else lm)")
    String task;
    @Option(names = "--config", paramLabel = "FILE", description = "settings file (Java properties); see conf/")
    String config;
    @Option(names = "--output", paramLabel = "DIR", required = true,
            description = "where the model and checkpoints go: any Hadoop-FS path (no scheme: the default file system)")
    String outputArg;
    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a setting (repeatable)")
    List<String> sets = new ArrayList<>();
    @Option(names = "--init", paramLabel = "MODEL_DIR", description = "start from a saved model's weights, vocabulary and tokenizer")
    String init;
    @Option(names = "--resume", description = "continue the run in DIR from its last checkpoint")
    boolean resume;
    @Option(names = "--overwrite", description = "replace DIR if it exists")
    boolean overwrite;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: as spark-submit set it, else local[*])")
    String master;

    /** What --set may change when resuming: anything else would make the continued run a different run. */
    private static final Set<String> RESUMABLE = Set.of("train.epochs", "generate.prefix", "generate.length", "data.path",
            "data.test_path");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        if (resume && init != null) {
            throw new UserError("--resume continues DIR's own run; it cannot be combined with --init");
        }
        Settings settings;
        Checkpoint.State checkpoint = null;
        Model base = null;
        Location output = Locations.of(outputArg);
        Location configFile = config == null ? null : Locations.of(config);
        List<String> overrides = new ArrayList<>();
        if (task != null) {
            overrides.add("task=" + task);
        }
        overrides.addAll(sets);
        OutputDir.recover(output);    // a run killed while committing its checkpoint left it to be completed
        if (resume) {
            if (!Checkpoint.exists(output)) {
                throw new UserError("nothing to resume: " + output + " has no " + Checkpoint.FILE);
            }
            checkpoint = Checkpoint.read(output);
            // The run's task unless --task says otherwise, so that its keys are known when the command line is read.
            List<String> asked = new ArrayList<>();
            asked.add("task=" + checkpoint.settings().getOrDefault("task", Settings.LM));
            asked.addAll(overrides);
            settings = resumedSettings(checkpoint.settings(), Settings.load(configFile, asked));
        } else {
            settings = Settings.load(configFile, overrides);
            if (output.exists() && !overwrite) {
                throw new UserError("output directory " + output + " exists; add --overwrite to replace it or --resume to continue it");
            }
            if (overwrite) {
                OutputDir.checkReplaceable(output);   // before any work: a user's folder is never replaced
            }
        }
        if (settings.task().equals(Settings.CLASSIFY)) {
            return new ClassifyTrain(settings, checkpoint, output, init == null ? null : Locations.of(init), resume,
                    master).run();
        }
        if (resume) {
            base = ModelDir.read(output);
        } else if (init != null) {
            base = ModelDir.read(Locations.of(init));
        }
        if (output.isLocal() && Sessions.clusterDeployMode()) {
            System.err.println("train: warning: " + output + " is on the local disk of the node that runs this "
                    + "driver (cluster deploy mode); use a shared file system (hdfs://, s3a://, ...) to keep the model");
        }
        TrainConfig tc = trainConfig(settings);
        TokenizerConfig tokCfg = base != null ? base.config().tokenizer() : tokenizerConfig(settings);
        Tokenizer tokenizer = new Tokenizer(tokCfg);
        String path = Locations.input(settings.get("data.path"), "the corpus", true);
        int epochs = settings.getInt("train.epochs");

        try (Sessions.Handle session = Sessions.open("seqspark train", master)) {
            SparkSession spark = session.spark();
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int workers = settings.getInt("dist.workers") > 0 ? settings.getInt("dist.workers") : jsc.defaultParallelism();
            long t0 = System.nanoTime();
            ShardedCorpus corpus = ShardedCorpus.build(spark, path, tokenizer, base != null ? base.vocab() : null,
                    settings.getInt("data.min_freq"), settings.getInt("data.max_vocab"),
                    settings.getDouble("data.valid_fraction"), workers,
                    tc.batchSize(), tc.numSteps(), ShardTrainer.minShardTokens(tc));
            ModelSpec spec = base != null ? base.spec() : modelSpec(settings, corpus.vocab.size());
            ModelConfig modelConfig = new ModelConfig(spec, tokCfg);
            Vocab vocab = corpus.vocab;
            int firstEpoch = 0;
            ModelState start;
            List<JsonNode> metrics = new ArrayList<>();
            if (checkpoint != null) {
                firstEpoch = checkpoint.epochsDone();
                start = new ModelState(base.weights(), checkpoint.optimizerState(), checkpoint.optimizerSteps(),
                        checkpoint.blockMomentum());
                metrics.addAll(ModelDir.readMetrics(output));
            } else if (base != null) {
                start = new ModelState(base.weights(),
                        new float[Optimizers.stateSize(tc.optimizer(), base.weights().length)], 0);
            } else {
                start = ShardTrainer.initialState(spec, tc, tc.seed());
            }
            System.err.printf("train: corpus %s: %,d tokens (%,d training, %,d validation), vocabulary %d, read and sharded in %.1f s%n",
                    path, corpus.tokens, corpus.trainTokens, corpus.validTokens, vocab.size(), (System.nanoTime() - t0) / 1e9);
            int syncEvery = syncEvery(settings, workers);
            OuterUpdate outer = outerUpdate(settings, workers);
            System.err.printf("train: %s, %d layer(s), hidden %d, %s input, %,d parameters; %d workers on %s; "
                            + "batch %d x %d steps, %s, lr %s, clip %s; %s %s; BLAS %s%n",
                    spec.cell().id, spec.numLayers(), spec.hiddenSize(),
                    spec.embeddingDim() > 0 ? "embedding " + spec.embeddingDim() : "one-hot", start.weights().length,
                    workers, jsc.master(), tc.batchSize(), tc.numSteps(), tc.optimizer(), tc.lr(), tc.clip(), outer,
                    syncEvery > 0 ? "every " + syncEvery + " batches" : "once per epoch", Blas.describe());
            if (firstEpoch >= epochs) {
                System.err.printf("train: %s already holds %d epochs (train.epochs = %d): nothing to do%n", output, firstEpoch, epochs);
            }
            Map<String, String> all = settings.all();
            all.put("dist.workers", String.valueOf(workers));   // resolved: a resume elsewhere keeps W

            int first = firstEpoch;
            TrainingLoop.Listener listener = new TrainingLoop.Listener() {
                final long started = System.nanoTime();

                @Override
                public void roundEnd(int epoch, int round, int rounds, long tokens, double seconds, double loss) {
                    if (rounds > 1 && (round + 1) % Math.max(1, rounds / 5) == 0 && round + 1 < rounds) {
                        System.err.printf("train: epoch %d/%d  round %d/%d  train ppl %.3f  %,.0f tokens/s%n",
                                epoch + 1, epochs, round + 1, rounds, Math.exp(loss), tokens / seconds);
                    }
                }

                @Override
                public void epochEnd(TrainingLoop.EpochMetrics m, ModelState state) {
                    ObjectNode line = JSON.createObjectNode();
                    line.put("epoch", m.epoch());
                    line.put("train_perplexity", m.trainPerplexity());
                    line.put("valid_perplexity", Double.isNaN(m.validPerplexity()) ? null : m.validPerplexity());
                    line.put("tokens_per_second", Math.round(m.tokensPerSecond()));
                    line.put("seconds", Math.round(m.seconds() * 1000) / 1000.0);
                    line.put("tokens", m.tokens());
                    line.put("workers", workers);
                    line.put("rounds", m.rounds());
                    line.put("round_overhead_seconds", Math.round(m.roundOverheadSeconds() * 1000) / 1000.0);
                    metrics.add(line);
                    try {
                        Checkpoint.write(output, new Model(modelConfig, vocab, state.weights()), metrics,
                                new Checkpoint.State(m.epoch(), state.optimizerSteps(), state.optimizerState(),
                                        state.blockMomentum(), all));
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot write the checkpoint to " + output + ": " + e.getMessage(), e);
                    }
                    double elapsed = (System.nanoTime() - started) / 1e9;
                    double eta = elapsed / (m.epoch() - first) * (epochs - m.epoch());
                    System.err.printf("train: epoch %d/%d  train ppl %.3f  valid ppl %s  %,.0f tokens/s  %.1f s  "
                                    + "overhead %.1f%%  ETA %d:%02d%n", m.epoch(), epochs, m.trainPerplexity(),
                            Double.isNaN(m.validPerplexity()) ? "-" : String.format("%.3f", m.validPerplexity()),
                            m.tokensPerSecond(), m.seconds(), 100 * m.roundOverheadSeconds() / m.seconds(),
                            (long) eta / 60, (long) eta % 60);
                }
            };
            ModelState last;
            try (SparkWorkers sw = new SparkWorkers(jsc, corpus, spec, tc)) {
                last = new TrainingLoop(sw, syncEvery, outer, listener).run(start, firstEpoch, epochs);
            } catch (TrainingLoop.DivergedException e) {
                throw new UserError(e.getMessage());
            }
            String sample = sample(new Model(modelConfig, vocab, last.weights()), settings.get("generate.prefix"),
                    settings.getInt("generate.length"));
            System.err.println("train: model written to " + output);
            System.out.println(sample);
        }
        return 0;
    }

    /**
     * The settings of a resumed run: the checkpoint's, with the keys in {@link #RESUMABLE} as {@code asked}
     * gives them. Any other key the command line or its config file gives must hold the checkpoint's value
     * (so re-running the same command with --resume works), except {@code dist.workers=0}, "all task slots",
     * which keeps the run's resolved W.
     */
    static Settings resumedSettings(Map<String, String> stored, Settings asked) {
        Settings run = Settings.of(stored, List.of());
        List<String> changes = new ArrayList<>();
        for (Map.Entry<String, String> e : asked.explicit().entrySet()) {
            String key = e.getKey();
            if (RESUMABLE.contains(key)) {
                changes.add(key + "=" + e.getValue());
            } else if (!(key.equals("dist.workers") && e.getValue().equals("0"))
                    && !Settings.sameValue(run.get(key), e.getValue())) {
                throw new UserError(key + " cannot change when resuming: the run has " + key + "=" + run.get(key)
                        + ", " + asked.source(key) + " asks for " + e.getValue() + " (only " + new java.util.TreeSet<>(RESUMABLE)
                        + " may change)");
            }
        }
        return Settings.of(stored, changes);
    }

    /**
     * dist.sync_every=auto: K = ceil(200 / W²) batches per worker per block, chosen by measurement (README,
     * "Distributed"). A round is a Spark job, about 25 ms of scheduling and transfer whatever K: at W = 2 a block
     * of 50 batches keeps that under 3% of an epoch (GRU-256), and BMUF still ends where one worker does; more
     * workers need shorter blocks to keep that quality (W = 4: 13, W = 8: 4), as their momentum spans W blocks.
     */
    static final int BLOCK_SCALE = 200;

    /** dist.sync_every: K batches per worker per round; auto = ceil(200 / W²), once per epoch for one worker. */
    static int syncEvery(Settings s, int workers) {
        String k = s.get("dist.sync_every");
        if (!k.equals("auto")) {
            return Integer.parseInt(k);
        }
        long w2 = (long) workers * workers;
        return workers <= 1 ? 0 : (int) Math.max(1, (BLOCK_SCALE + w2 - 1) / w2);
    }

    /** dist.outer, dist.block_momentum (auto: 1 − 1/W) and dist.block_lr. */
    static OuterUpdate outerUpdate(Settings s, int workers) {
        if (s.get("dist.outer").equals("average")) {
            return OuterUpdate.average();
        }
        String eta = s.get("dist.block_momentum");
        return OuterUpdate.bmuf(eta.equals("auto") ? OuterUpdate.defaultMomentum(workers) : Double.parseDouble(eta),
                s.getDouble("dist.block_lr"));
    }

    /** Greedy text from {@code prefix}, as the run's last line. */
    static String sample(Model model, String prefix, int length) {
        String text = GenerateCommand.generate(model, prefix, length, Generator.Sampling.greedy());
        return text == null ? "" : text;
    }

    static String detokenize(Model model, int[] ids) {
        StringBuilder sb = new StringBuilder();
        boolean words = model.config().tokenizer().level() == TokenizerConfig.Level.WORD;
        for (int i = 0; i < ids.length; i++) {
            String t = model.vocab().token(ids[i]);
            if (words && i > 0 && !t.equals(Tokenizer.NEWLINE) && sb.length() > 0 && sb.charAt(sb.length() - 1) != '\n') {
                sb.append(' ');
            }
            sb.append(t);
        }
        return sb.toString();
    }

    static TrainConfig trainConfig(Settings s) {
        String offset = s.get("data.offset");
        return new TrainConfig(s.getInt("train.batch_size"), s.getInt("train.num_steps"),
                Partitioning.fromId(s.get("data.partitioning")), offset.equals("random") ? null : Integer.valueOf(offset),
                s.get("train.optimizer"), s.getDouble("train.lr"), s.getDouble("train.clip"), s.getLong("train.seed"));
    }

    static TokenizerConfig tokenizerConfig(Settings s) {
        return new TokenizerConfig(TokenizerConfig.Level.fromId(s.get("data.tokenizer.level")),
                s.getBool("data.tokenizer.lowercase"), s.getBool("data.tokenizer.letters_only"));
    }

    static ModelSpec modelSpec(Settings s, int vocabSize) {
        return new ModelSpec(CellType.fromId(s.get("model.cell")), vocabSize, s.getInt("model.embedding_dim"),
                s.getInt("model.hidden_size"), s.getInt("model.num_layers"), true, s.getDouble("model.dropout"));
    }
}
