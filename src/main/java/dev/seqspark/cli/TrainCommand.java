package dev.seqspark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.io.Checkpoint;
import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.io.OutputDir;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.Generator;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.spark.ClassifierEvaluation;
import dev.seqspark.spark.SequenceClassificationModel;
import dev.seqspark.spark.Sessions;
import dev.seqspark.spark.TrainingRun;
import dev.seqspark.train.ClassifierTask;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.Settings;
import dev.seqspark.train.TrainingLoop;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code seqspark train}: distributed training of either task on Spark ({@link TrainingRun}); see conf/*.properties
 * for every setting. After every epoch the output directory holds a usable model directory and a checkpoint; a
 * language model's run ends with text generated from a prefix, a classifier's with its test records' metrics.
 */
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
    private static final Set<String> RESUMABLE = Set.of("train.epochs", "generate.prefix", "generate.length",
            "generate.temperature", "data.path", "data.test_path");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        if (resume && init != null) {
            throw new UserError("--resume continues DIR's own run; it cannot be combined with --init");
        }
        Location output = Locations.of(outputArg);
        Location configFile = config == null ? null : Locations.of(config);
        List<String> overrides = new ArrayList<>();
        if (task != null) {
            overrides.add("task=" + task);
        }
        overrides.addAll(sets);
        OutputDir.recover(output);    // a run killed while committing its checkpoint left it to be completed
        Settings settings;
        Checkpoint.State checkpoint = null;
        if (resume) {
            if (!Checkpoint.exists(output)) {
                throw new UserError("nothing to resume: " + output + " has no " + Checkpoint.FILE);
            }
            checkpoint = Checkpoint.read(output);
            // The run's task unless --task says otherwise, so that its keys are known when the command line is read.
            List<String> asked = new ArrayList<>();
            asked.add("task=" + checkpoint.settings().getOrDefault("task", Settings.LM));
            asked.addAll(overrides);
            settings = resumedSettings(checkpoint.settings(), load(configFile, asked));
        } else {
            settings = load(configFile, overrides);
            if (output.exists() && !overwrite) {
                throw new UserError("output directory " + output + " exists; add --overwrite to replace it or --resume to continue it");
            }
            if (overwrite) {
                OutputDir.checkReplaceable(output);   // before any work: a user's folder is never replaced
            }
        }
        boolean classify = settings.task().equals(Settings.CLASSIFY);
        Class<? extends NetworkSpec> kind = classify ? ClassifierSpec.class : LanguageModelSpec.class;
        Model<?> base = resume ? ModelDir.read(output, kind) : init != null ? ModelDir.read(Locations.of(init), kind) : null;
        if (output.isLocal() && Sessions.clusterDeployMode()) {
            System.err.println("train: warning: " + output + " is on the local disk of the node that runs this "
                    + "driver (cluster deploy mode); use a shared file system (hdfs://, s3a://, ...) to keep the model");
        }
        // Every input is checked before Spark starts.
        String trainPath = classify ? path(settings, "data.path", true) : Locations.input(settings.get("data.path"), "the corpus", true);
        String validPath = classify ? path(settings, "data.valid_path", false) : null;
        String testPath = classify ? path(settings, "data.test_path", false) : null;
        int epochs = settings.getInt("train.epochs");

        try (Sessions.Handle session = Sessions.open("seqspark train", master)) {
            SparkSession spark = session.spark();
            TrainingRun.Data data = classify
                    ? new TrainingRun.Data(records(spark, settings, trainPath), validPath == null ? null
                            : records(spark, settings, validPath), trainPath)
                    : new TrainingRun.Data(spark.read().text(trainPath), null, trainPath);
            try (TrainingRun<?> run = TrainingRun.prepare(spark, settings, data, base)) {
                System.err.printf("train: %s; read and sharded in %.1f s%n", run.corpus.describe(trainPath), run.prepareSeconds);
                ModelState start = run.start(base, checkpoint);
                int firstEpoch = checkpoint == null ? 0 : checkpoint.epochsDone();
                System.err.println("train: " + run.describe(start.weights().length));
                if (firstEpoch >= epochs) {
                    System.err.printf("train: %s already holds %d epochs (train.epochs = %d): nothing to do%n", output,
                            firstEpoch, epochs);
                }
                List<JsonNode> metrics = new ArrayList<>(checkpoint == null ? List.of() : ModelDir.readMetrics(output));
                ModelState last;
                try {
                    last = run.run(start, firstEpoch, epochs, new Progress(run, output, settings, metrics, firstEpoch, epochs));
                } catch (TrainingLoop.DivergedException e) {
                    throw new UserError(e.getMessage());
                }
                System.err.println("train: rounds: " + run.describeRounds());
                System.err.println("train: model written to " + output);
                if (classify) {
                    if (testPath != null) {
                        test(spark, settings, run.model(last.weights()), testPath);
                    }
                } else {
                    sample(run.model(last.weights()), settings);
                }
            }
        }
        return 0;
    }

    /** After every round and epoch: progress lines, metrics.jsonl and the checkpoint. */
    private static final class Progress implements TrainingLoop.Listener {
        private final TrainingRun<?> run;
        private final Location output;
        private final List<JsonNode> metrics;
        private final Map<String, String> settings;
        private final int firstEpoch;
        private final int epochs;
        private final long started = System.nanoTime();

        Progress(TrainingRun<?> run, Location output, Settings settings, List<JsonNode> metrics, int firstEpoch, int epochs) {
            this.run = run;
            this.output = output;
            this.metrics = metrics;
            this.settings = settings.all();
            this.settings.put("dist.workers", String.valueOf(run.workers()));   // resolved: a resume elsewhere keeps W
            this.firstEpoch = firstEpoch;
            this.epochs = epochs;
        }

        @Override
        public void roundEnd(int epoch, int round, int rounds, long examples, double seconds, double loss) {
            if (rounds > 1 && (round + 1) % Math.max(1, rounds / 5) == 0 && round + 1 < rounds) {
                System.err.printf("train: epoch %d/%d  round %d/%d  %s  %,.0f %s/s%n", epoch + 1, epochs, round + 1,
                        rounds, run.task.trainLoss(loss), examples / seconds, run.task.examplesName());
            }
        }

        @Override
        public void epochEnd(TrainingLoop.EpochMetrics m, ModelState state) {
            ObjectNode line = JSON.valueToTree(run.task.metrics(m));
            line.put("workers", run.workers());
            line.put("rounds", m.rounds());
            line.put("round_overhead_seconds", Math.round(m.roundOverheadSeconds() * 1000) / 1000.0);
            line.put("slowest_task_seconds", Math.round(m.slowestSeconds() * 1000) / 1000.0);
            metrics.add(line);
            try {
                Checkpoint.write(output, run.model(state.weights()), metrics, new Checkpoint.State(m.epoch(),
                        state.optimizerSteps(), state.optimizerState(), state.blockMomentum(), settings));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the checkpoint to " + output + ": " + e.getMessage(), e);
            }
            double elapsed = (System.nanoTime() - started) / 1e9;
            double eta = elapsed / (m.epoch() - firstEpoch) * (epochs - m.epoch());
            System.err.printf("train: epoch %d/%d  %s  %s  %,.0f %s/s  %.1f s  overhead %.1f%%  ETA %d:%02d%n", m.epoch(),
                    epochs, run.task.trainLoss(m.trainLoss()), run.task.validation(m.valid()), m.examplesPerSecond(),
                    run.task.examplesName(), m.seconds(), 100 * m.roundOverheadSeconds() / m.seconds(), (long) eta / 60,
                    (long) eta % 60);
        }
    }

    /** Defaults, then the config file (on any Hadoop file system; may be null), then {@code overrides}. */
    static Settings load(Location configFile, List<String> overrides) {
        Map<String, String> values = new TreeMap<>();
        if (configFile != null) {
            Properties p = new Properties();
            try {
                if (!configFile.isFile()) {
                    throw new UserError("config file " + configFile + " does not exist");
                }
                try (Reader r = new InputStreamReader(configFile.open(), StandardCharsets.UTF_8.newDecoder())) {
                    p.load(r);
                }
            } catch (IOException | IllegalArgumentException e) {
                throw new UserError("cannot read config file " + configFile + ": " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> values.put(k, p.getProperty(k)));
        }
        return Settings.of(values, configFile == null ? "--set" : configFile.toString(), overrides);
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

    /** A classifier's input path from {@code key}, checked; null when optional and empty. */
    private static String path(Settings settings, String key, boolean required) {
        String p = settings.get(key);
        if (p.isBlank()) {
            if (required) {
                throw new UserError(key + " must name the training records for --task classify (label<TAB>text lines, "
                        + "CSV, JSON or Parquet; see conf/authorship.properties)");
            }
            return null;
        }
        return Locations.input(p, key, true);
    }

    private static Dataset<Row> records(SparkSession spark, Settings s, String path) {
        return Inputs.labelled(spark, path, s.get("data.format"), s.get("data.text_col"), s.get("data.label_col"));
    }

    /** d2l's greedy continuation of generate.prefix (kept for parity), then a sampled one (seeded: reproducible). */
    @SuppressWarnings("unchecked")
    private static void sample(Model<?> model, Settings s) {
        Model<LanguageModelSpec> m = (Model<LanguageModelSpec>) model;
        String prefix = s.get("generate.prefix");
        int length = s.getInt("generate.length");
        double temperature = s.getDouble("generate.temperature");
        String greedy = GenerateCommand.generate(m, prefix, length, Generator.Sampling.greedy());
        System.out.println("greedy:  " + (greedy == null ? "" : greedy));
        if (temperature > 0) {
            String sampled = GenerateCommand.generate(m, prefix, length,
                    new Generator.Sampling(temperature, 0, s.getLong("train.seed")));
            System.out.printf("sampled: %s%n", sampled == null ? "" : sampled);
        }
    }

    /** The test records' metrics: a progress line, the confusion matrix, and one JSON line on stdout. */
    @SuppressWarnings("unchecked")
    private static void test(SparkSession spark, Settings settings, Model<?> trained, String testPath) {
        Model<ClassifierSpec> model = (Model<ClassifierSpec>) trained;
        String labelCol = settings.get("data.label_col");
        Dataset<Row> scored = new SequenceClassificationModel(model).setTextCol(settings.get("data.text_col"))
                .setRawPredictionCol("").setProbabilityCol("").setPredictionCol("__prediction")
                .transform(records(spark, settings, testPath));
        ClassifierEvaluation.Observed o = ClassifierEvaluation.observe(scored, labelCol, "__prediction", model.labels());
        o.dataset().write().format("noop").mode("overwrite").save();
        ClassifierEvaluation.Summary s = o.summary();
        System.err.printf("train: test %s: %,d records: accuracy %s, macro-F1 %s%s%s%n", testPath, s.evaluated(),
                fmt(s.accuracy()), fmt(s.macroF1()), s.unseen() > 0 ? String.format("; %,d with labels the model does not "
                        + "have, left out", s.unseen()) : "",
                s.noToken() > 0 ? String.format("; %,d without a token, left out", s.noToken()) : "");
        String table = s.metrics() == null ? null : s.metrics().confusionTable(model.labels());
        if (table != null) {
            System.err.println(table.lines().map(l -> "train:   " + l).reduce((a, b) -> a + "\n" + b).orElse(""));
        }
        System.out.println(summaryJson(s, model.labels()));
    }

    /** The summary as one JSON line: records, evaluated, unseen_labels, no_token, accuracy, macro_f1, confusion. */
    static ObjectNode summaryJson(ClassifierEvaluation.Summary s, List<String> labels) {
        ObjectNode j = JSON.createObjectNode();
        j.put("records", s.records());
        j.put("evaluated", s.evaluated());
        j.put("unseen_labels", s.unseen());
        j.put("unlabelled", s.unlabelled());
        j.put("no_token", s.noToken());
        putOrNull(j, "accuracy", s.accuracy());
        putOrNull(j, "macro_f1", s.macroF1());
        long[][] m = s.metrics() == null ? null : s.metrics().confusion();
        if (m != null) {
            ObjectNode cm = j.putObject("confusion");
            ArrayNode l = cm.putArray("labels");
            labels.forEach(l::add);
            ArrayNode rows = cm.putArray("matrix");
            for (long[] row : m) {
                ArrayNode r = rows.addArray();
                for (long x : row) {
                    r.add(x);
                }
            }
        }
        return j;
    }

    private static void putOrNull(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, ClassifierTask.rounded(v));
        }
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.4f", v);
    }
}
