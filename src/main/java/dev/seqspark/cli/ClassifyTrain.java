package dev.seqspark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.io.Checkpoint;
import dev.seqspark.io.ClassifierDir;
import dev.seqspark.io.ClassifierModel;
import dev.seqspark.io.Location;
import dev.seqspark.io.ModelDir;
import dev.seqspark.nn.Blas;
import dev.seqspark.nn.ClassifierSpec;
import dev.seqspark.nn.Pooling;
import dev.seqspark.spark.ClassifierCorpus;
import dev.seqspark.spark.ClassifierEvaluation;
import dev.seqspark.spark.ClassifierTraining;
import dev.seqspark.spark.SequenceClassificationModel;
import dev.seqspark.spark.Sessions;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.ClassMetrics;
import dev.seqspark.train.ClassifierValidation;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.TrainingLoop;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code seqspark train --task classify}: a sequence classifier trained on Spark (spark.ClassifierTraining) with
 * the language model's checkpoints, resume, --init and --overwrite rules (TrainCommand has checked the output
 * directory and the settings). Per epoch: loss, validation loss, accuracy and macro-F1 in the progress line and in
 * metrics.jsonl; at the end, with data.test_path, the test records' accuracy, macro-F1 and confusion matrix.
 */
final class ClassifyTrain {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Settings settings;
    private final Checkpoint.State checkpoint;
    private final Location output;
    private final Location init;
    private final boolean resume;
    private final String master;

    ClassifyTrain(Settings settings, Checkpoint.State checkpoint, Location output, Location init, boolean resume, String master) {
        this.settings = settings;
        this.checkpoint = checkpoint;
        this.output = output;
        this.init = init;
        this.resume = resume;
        this.master = master;
    }

    private String path(String key, boolean required) {
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

    int run() throws IOException {
        ClassifierModel base = resume ? ClassifierDir.read(output) : init != null ? ClassifierDir.read(init) : null;
        String trainPath = path("data.path", true);
        String validPath = path("data.valid_path", false);
        String testPath = path("data.test_path", false);
        TokenizerConfig tok = base != null ? base.config().tokenizer() : TrainCommand.tokenizerConfig(settings);
        int maxLength = base != null ? base.config().maxLength() : settings.getInt("data.max_length");
        String textCol = settings.get("data.text_col");
        String labelCol = settings.get("data.label_col");
        String format = settings.get("data.format");
        int epochs = settings.getInt("train.epochs");
        try (Sessions.Handle session = Sessions.open("seqspark train", master)) {
            SparkSession spark = session.spark();
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int workers = settings.getInt("dist.workers") > 0 ? settings.getInt("dist.workers") : jsc.defaultParallelism();
            long t0 = System.nanoTime();
            Dataset<Row> train = ClassifyInput.labelled(spark, trainPath, format, textCol, labelCol);
            Dataset<Row> valid = validPath == null ? null : ClassifyInput.labelled(spark, validPath, format, textCol, labelCol);
            ClassifierCorpus.Options data = new ClassifierCorpus.Options(textCol, labelCol, new Tokenizer(tok),
                    settings.getInt("data.min_freq"), settings.getInt("data.max_vocab"), maxLength,
                    settings.getDouble("data.valid_fraction"), settings.getLong("train.seed"), workers);
            String eta = settings.get("dist.block_momentum");
            ClassifierTraining.Plan plan = new ClassifierTraining.Plan(data, tok, settings.getInt("model.embedding_dim"),
                    ClassifierSpec.parseBlocks(settings.get("model.blocks")), Pooling.fromId(settings.get("model.pooling")),
                    settings.getInt("train.batch_size"), settings.get("train.optimizer"), settings.getDouble("train.lr"),
                    settings.getDouble("train.clip"), settings.get("train.class_weights"), epochs,
                    settings.getInt("dist.sync_every"), settings.get("dist.outer"),
                    eta.equals("auto") ? Double.NaN : Double.parseDouble(eta), settings.getDouble("dist.block_lr"));
            try (ClassifierTraining t = ClassifierTraining.prepare(spark, train, valid, plan, base)) {
                return train(spark, t, base, trainPath, validPath, testPath, workers, epochs, t0, jsc.master());
            }
        }
    }

    private int train(SparkSession spark, ClassifierTraining t, ClassifierModel base, String trainPath, String validPath,
                      String testPath, int workers, int epochs, long t0, String sparkMaster) throws IOException {
        ClassifierCorpus c = t.corpus;
        StringBuilder classes = new StringBuilder();
        for (int k = 0; k < c.labels.size() && k < 10; k++) {
            classes.append(k == 0 ? "" : ", ").append(c.labels.names().get(k)).append(' ').append(String.format("%,d", c.trainPerClass[k]));
        }
        System.err.printf("train: data %s: %,d training records (%,d tokens), %,d validation%s; %d classes (%s%s); "
                        + "vocabulary %,d%s%s; read and sharded in %.1f s%n", trainPath, c.trainRecords, c.trainTokens,
                c.validRecords, validPath == null ? "" : " from " + validPath, c.labels.size(), classes,
                c.labels.size() > 10 ? ", …" : "", c.vocab.size(),
                c.emptySkipped > 0 ? String.format("; %,d empty texts skipped", c.emptySkipped) : "",
                c.truncated > 0 ? String.format("; %,d cut to %d tokens", c.truncated, t.modelConfig.maxLength()) : "",
                (System.nanoTime() - t0) / 1e9);
        int firstEpoch = 0;
        ModelState start;
        List<JsonNode> metrics = new ArrayList<>();
        if (checkpoint != null) {
            firstEpoch = checkpoint.epochsDone();
            start = new ModelState(base.weights(), checkpoint.optimizerState(), checkpoint.optimizerSteps(),
                    checkpoint.blockMomentum());
            metrics.addAll(ModelDir.readMetrics(output));
        } else {
            start = t.initialState(base == null ? null : base.weights());
        }
        ClassifierSpec spec = t.spec;
        System.err.printf("train: %s, %s pooling, %s input, %d classes, %,d parameters; %d workers on %s; batch %d records, "
                        + "%s, lr %s, clip %s%s; %s %s; BLAS %s%n", ClassifierSpec.formatBlocks(spec.blocks()),
                spec.pooling().id, spec.embeddingDim() > 0 ? "embedding " + spec.embeddingDim() : "one-hot",
                spec.numClasses(), start.weights().length, workers, sparkMaster, t.config.batchSize(), t.config.optimizer(),
                t.config.lr(), t.config.clip(), t.config.classWeights() == null ? ""
                        : ", class weights " + java.util.Arrays.toString(t.config.classWeights()), t.outer,
                t.plan.syncEvery() > 0 ? "every " + t.plan.syncEvery() + " batches" : "once per epoch", Blas.describe());
        if (firstEpoch >= epochs) {
            System.err.printf("train: %s already holds %d epochs (train.epochs = %d): nothing to do%n", output, firstEpoch, epochs);
        }
        Map<String, String> all = settings.all();
        all.put("dist.workers", String.valueOf(workers));
        ClassifierValidation validation = t.workers;
        int first = firstEpoch;
        long tokens = c.trainTokens;
        TrainingLoop.Listener listener = new TrainingLoop.Listener() {
            final long started = System.nanoTime();

            @Override
            public void epochEnd(TrainingLoop.EpochMetrics m, ModelState state) {
                ClassMetrics v = validation.lastValidation();
                double trainLoss = Math.log(m.trainPerplexity());       // the loop reports exp(mean loss)
                ObjectNode line = JSON.createObjectNode();
                line.put("epoch", m.epoch());
                line.put("train_loss", trainLoss);
                putOrNull(line, "valid_loss", v.meanLoss());
                putOrNull(line, "valid_accuracy", v.accuracy());
                putOrNull(line, "valid_macro_f1", v.macroF1());
                line.put("records_per_second", Math.round(m.tokensPerSecond()));
                line.put("tokens_per_second", Math.round(tokens / m.seconds()));
                line.put("seconds", Math.round(m.seconds() * 1000) / 1000.0);
                line.put("records", m.tokens());
                line.put("workers", workers);
                line.put("rounds", m.rounds());
                line.put("round_overhead_seconds", Math.round(m.roundOverheadSeconds() * 1000) / 1000.0);
                metrics.add(line);
                ClassifierModel model = t.model(state.weights());
                try {
                    Checkpoint.write(output, dir -> ClassifierDir.writeContents(dir, model, metrics),
                            new Checkpoint.State(m.epoch(), state.optimizerSteps(), state.optimizerState(),
                                    state.blockMomentum(), all));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the checkpoint to " + output + ": " + e.getMessage(), e);
                }
                double elapsed = (System.nanoTime() - started) / 1e9;
                double left = elapsed / (m.epoch() - first) * (epochs - m.epoch());
                System.err.printf("train: epoch %d/%d  train loss %.4f  valid loss %s  accuracy %s  macro-F1 %s  "
                                + "%,.0f records/s  %.1f s  overhead %.1f%%  ETA %d:%02d%n", m.epoch(), epochs, trainLoss,
                        fmt(v.meanLoss()), fmt(v.accuracy()), fmt(v.macroF1()), m.tokensPerSecond(), m.seconds(),
                        100 * m.roundOverheadSeconds() / m.seconds(), (long) left / 60, (long) left % 60);
            }
        };
        ModelState last;
        try {
            last = t.run(start, firstEpoch, listener);
        } catch (TrainingLoop.DivergedException e) {
            throw new UserError(e.getMessage());
        }
        System.err.println("train: model written to " + output);
        if (testPath != null) {
            test(spark, t.model(last.weights()), testPath);
        }
        return 0;
    }

    /** The test records' metrics: a progress line, the confusion matrix, and one JSON line on stdout. */
    private void test(SparkSession spark, ClassifierModel model, String testPath) {
        String textCol = settings.get("data.text_col");
        String labelCol = settings.get("data.label_col");
        Dataset<Row> test = ClassifyInput.labelled(spark, testPath, settings.get("data.format"), textCol, labelCol);
        Dataset<Row> scored = new SequenceClassificationModel(model).setTextCol(textCol).setRawPredictionCol("")
                .setProbabilityCol("").setPredictionCol("__prediction").transform(test);
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

    static void putOrNull(ObjectNode o, String k, double v) {
        if (Double.isNaN(v)) {
            o.putNull(k);
        } else {
            o.put(k, Math.round(v * 1e6) / 1e6);
        }
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.4f", v);
    }
}
