package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.io.ModelFormatException;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.testutil.Golden;
import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.Evaluator;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.tuning.TrainValidationSplit;
import org.apache.spark.ml.tuning.TrainValidationSplitModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer as a Spark ML citizen on the shared local session: copy, transform with a ParamMap, inside a
 * Pipeline with Spark's own stages, PipelineModel save/load (model weights inside the pipeline's path),
 * model selection with TrainValidationSplit, and clear errors for a tampered saved stage.
 */
class LanguageModelScorerTest {
    static final List<String> OUTPUTS = List.of("tokens", "log_likelihood", "perplexity", "bits_per_token");
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Model<LanguageModelSpec> model;
    /** (id bigint, raw string): lines of the bundled corpus, plus a null and an empty record. */
    static Dataset<Row> docs;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        model = ModelDir.read(Location.local(Golden.resource("torch_model")), LanguageModelSpec.class);
        List<String> lines = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8);
        List<Row> rows = new ArrayList<>();
        for (String l : lines.subList(1000, 1100)) {
            if (!l.isBlank()) {
                rows.add(RowFactory.create((long) rows.size(), "  " + l.strip() + " "));
            }
        }
        rows.add(RowFactory.create((long) rows.size(), null));
        rows.add(RowFactory.create((long) rows.size(), ""));
        StructType schema = new StructType().add("id", DataTypes.LongType, false).add("raw", DataTypes.StringType, true);
        docs = spark.createDataFrame(rows, schema).repartition(3).cache();
    }

    /** The scorer's columns of {@code scored}, by id (a sorted map: equal maps mean equal records). */
    static Map<Long, List<Object>> scores(Dataset<Row> scored, LanguageModelScorer s) {
        List<String> cols = new ArrayList<>(List.of(s.getTokensCol(), s.getLogLikelihoodCol(), s.getPerplexityCol(),
                s.getBitsPerTokenCol()));
        if (s.getTopK() > 0) {
            cols.add(s.getTopKCol());
        }
        Map<Long, List<Object>> out = new TreeMap<>();
        for (Row r : scored.collectAsList()) {
            List<Object> v = new ArrayList<>();
            for (String c : cols) {
                Object x = r.get(r.fieldIndex(c));
                v.add(x instanceof scala.collection.Seq<?> seq ? scala.jdk.javaapi.CollectionConverters.asJava(seq) : x);
            }
            out.put(r.getLong(r.fieldIndex("id")), v);
        }
        return out;
    }

    static Dataset<Row> renamed() {
        return docs.select(functions.col("id"), functions.trim(functions.col("raw")).as("body"));
    }

    @Test
    void everyParamHasADefaultAndADoc() {
        LanguageModelScorer s = new LanguageModelScorer(model);
        List<String> names = Arrays.stream(s.params()).map(Param::name).sorted().toList();
        assertEquals(List.of("batchSize", "bitsPerTokenCol", "logLikelihoodCol", "perplexityCol", "textCol", "tokensCol",
                "topK", "topKCol"), names, "params() finds every param (public no-arg accessors)");
        for (Param<?> p : s.params()) {
            assertTrue(s.hasDefault(p), p.name() + " has a default");
            assertTrue(p.doc().length() > 20, p.name() + " has a doc");
            assertTrue(s.explainParam(p).contains("default:"), s.explainParam(p));
        }
        assertEquals(List.of("text", "0", "128", "tokens", "log_likelihood", "perplexity", "bits_per_token", "top_k"),
                List.of(s.getTextCol(), "" + s.getTopK(), "" + s.getBatchSize(), s.getTokensCol(), s.getLogLikelihoodCol(),
                        s.getPerplexityCol(), s.getBitsPerTokenCol(), s.getTopKCol()));
        assertThrows(IllegalArgumentException.class, () -> s.setTopK(-1));
        assertThrows(IllegalArgumentException.class, () -> s.setBatchSize(0));
        assertThrows(IllegalArgumentException.class, () -> s.setPerplexityCol(""));
    }

    @Test
    void copyOfAnEmptyParamMapIsAnIndependentEqualScorer() {
        LanguageModelScorer s = new LanguageModelScorer(model).setTextCol("body").setTopK(2).setLogLikelihoodCol("ll");
        LanguageModelScorer c = s.copy(ParamMap.empty());
        assertNotSame(s, c);
        assertEquals(s.uid(), c.uid());
        assertSame(s.model(), c.model(), "the immutable model is shared, not copied");
        assertEquals(s.extractParamMap().toString(), c.extractParamMap().toString());
        assertEquals(scores(s.transform(renamed()), s), scores(c.transform(renamed()), c));
        c.setTopK(5);
        assertEquals(2, s.getTopK(), "setting the copy leaves the original alone");
    }

    @Test
    void copyWithAnExtraParamOverridesOnlyThatParam() {
        LanguageModelScorer s = new LanguageModelScorer(model).setTextCol("body").setBatchSize(5);
        LanguageModelScorer c = s.copy(new ParamMap().put(s.topK(), 3).put(s.perplexityCol(), "ppl"));
        assertEquals(3, c.getTopK());
        assertEquals("ppl", c.getPerplexityCol());
        assertEquals("body", c.getTextCol());
        assertEquals(5, c.getBatchSize());
        assertEquals(0, s.getTopK());
        assertEquals("perplexity", s.getPerplexityCol());
        assertTrue(Arrays.asList(c.transform(renamed()).columns()).containsAll(List.of("ppl", "top_k")));
    }

    @Test
    void transformWithAParamMapOverridesTopKForThatCallOnly() {
        LanguageModelScorer s = new LanguageModelScorer(model).setTextCol("body");
        Dataset<Row> withTop = s.transform(renamed(), new ParamMap().put(s.topK(), 2));
        assertEquals(List.of("id", "body", "tokens", "log_likelihood", "perplexity", "bits_per_token", "top_k"),
                Arrays.asList(withTop.columns()));
        Row first = withTop.orderBy("id").first();
        assertEquals(2, first.getList(first.fieldIndex("top_k")).size());
        assertEquals(0, s.getTopK());
        assertFalse(Arrays.asList(s.transform(renamed()).columns()).contains("top_k"));
        // The same through a PipelineModel: PipelineModel.transform(ds, map) copies every stage with the map.
        PipelineModel pm = new Pipeline().setStages(new PipelineStage[] {s}).fit(renamed());
        assertTrue(Arrays.asList(pm.transform(renamed(), new ParamMap().put(s.topK(), 1)).columns()).contains("top_k"));
    }

    /**
     * Spark stages: rename + trim (SQLTransformer; null becomes "", as RegexTokenizer fails on null), words
     * (RegexTokenizer), then the scorer on the trimmed text.
     */
    static Pipeline pipeline(LanguageModelScorer scorer) {
        SQLTransformer trim = new SQLTransformer().setStatement("SELECT id, coalesce(trim(raw), '') AS body FROM __THIS__");
        RegexTokenizer words = new RegexTokenizer().setInputCol("body").setOutputCol("words").setPattern("\\W+");
        return new Pipeline().setStages(new PipelineStage[] {trim, words, scorer});
    }

    @Test
    void aPipelineWithSparkStagesScoresAsTheScorerAlone() {
        LanguageModelScorer scorer = new LanguageModelScorer(model).setTextCol("body").setTopK(2);
        PipelineModel pm = pipeline(scorer).fit(docs);
        Dataset<Row> out = pm.transform(docs);
        assertEquals(List.of("id", "body", "words", "tokens", "log_likelihood", "perplexity", "bits_per_token", "top_k"),
                Arrays.asList(out.columns()));
        Map<Long, List<Object>> viaPipeline = scores(out, scorer);
        assertEquals(docs.count(), viaPipeline.size());
        assertEquals(viaPipeline, scores(scorer.transform(renamed()), scorer), "also: a null text scores as \"\"");
        Row r = out.where("id = 0").first();
        assertEquals(r.getString(r.fieldIndex("body")).length() - 1, r.getLong(r.fieldIndex("tokens")),
                "char model: the trimmed text was scored");
    }

    @Test
    void aSavedPipelineModelLoadsAndScoresIdentically() throws IOException {
        LanguageModelScorer scorer = new LanguageModelScorer(model).setTextCol("body").setTopK(3).setBatchSize(7)
                .setPerplexityCol("ppl");
        PipelineModel pm = pipeline(scorer).fit(docs);
        String dir = tmp.resolve("pipeline").toString();
        pm.write().save(dir);
        IOException exists = assertThrows(IOException.class, () -> pm.write().save(dir));
        assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());
        pm.write().overwrite().save(dir);

        PipelineModel back = PipelineModel.load(dir);
        LanguageModelScorer loaded = assertInstanceOf(LanguageModelScorer.class, back.stages()[2]);
        assertEquals(scorer.uid(), loaded.uid());
        assertEquals("body", loaded.getTextCol());
        assertEquals(3, loaded.getTopK());
        assertEquals(7, loaded.getBatchSize());
        assertEquals("ppl", loaded.getPerplexityCol());
        assertEquals(model.config(), loaded.model().config());
        assertEquals(model.vocab().tokens(), loaded.model().vocab().tokens());
        assertArrayEquals(model.weights(), loaded.model().weights());
        Map<Long, List<Object>> before = scores(pm.transform(docs), scorer);
        Map<Long, List<Object>> after = scores(back.transform(docs), loaded);
        assertEquals(before.keySet(), after.keySet());
        for (long id : before.keySet()) {
            assertEquals((double) before.get(id).get(1), (double) after.get(id).get(1), 0.0, "log_likelihood, record " + id);
        }
        assertEquals(before, after);

        // The weights are a SeqSpark model directory inside the stage's folder: readable by seqspark itself.
        Path stage = stageDir(Path.of(dir), scorer.uid());
        Model<LanguageModelSpec> inside = ModelDir.read(Location.local(stage.resolve("model")), LanguageModelSpec.class);
        assertArrayEquals(model.weights(), inside.weights());
        try (var files = Files.list(stage.resolve("model"))) {
            assertEquals(List.of("_SEQSPARK_COMMIT", "config.json", "vocab.json", "weights.safetensors"),
                    files.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList(),
                    "committed like any model directory (the marker is written last)");
        }
    }

    static Path stageDir(Path pipelineDir, String uid) throws IOException {
        try (var s = Files.list(pipelineDir.resolve("stages"))) {
            return s.filter(p -> p.getFileName().toString().endsWith("_" + uid)).findFirst().orElseThrow();
        }
    }

    @Test
    void aSavedScorerRoundTripsAndOverwriteReplacesIt() throws IOException {
        LanguageModelScorer s = new LanguageModelScorer(model).setTextCol("body").setTokensCol("n");
        String dir = tmp.resolve("stage").toString();
        s.save(dir);
        LanguageModelScorer back = LanguageModelScorer.load(dir);
        assertEquals(s.uid(), back.uid());
        assertEquals("n", back.getTokensCol());
        assertEquals(scores(s.transform(renamed()), s), scores(back.transform(renamed()), back));

        float[] halved = model.weights().clone();
        for (int i = 0; i < halved.length; i++) {
            halved[i] *= 0.5f;
        }
        LanguageModelScorer other = new LanguageModelScorer(new Model<>(model.config(), model.vocab(), halved));
        IOException exists = assertThrows(IOException.class, () -> other.save(dir));
        assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());
        assertArrayEquals(model.weights(), LanguageModelScorer.load(dir).model().weights(), "a refused save changes nothing");
        other.write().overwrite().save(dir);
        LanguageModelScorer replaced = LanguageModelScorer.read().load(dir);
        assertEquals(other.uid(), replaced.uid());
        assertArrayEquals(halved, replaced.model().weights());
        assertEquals("text", replaced.getTextCol());
    }

    @Test
    void loadAlsoReadsABareModelDirectory() throws IOException {
        Path bare = tmp.resolve("bare");
        ModelDir.write(Location.local(bare), model, List.of(), false);
        LanguageModelScorer s = LanguageModelScorer.load(bare.toString());
        assertArrayEquals(model.weights(), s.model().weights());
        assertEquals("text", s.getTextCol());
        LanguageModelScorer copied = s.copy(ParamMap.empty());      // the issue: this threw NoSuchMethodException
        assertEquals(scores(s.transform(docs.withColumnRenamed("raw", "text")), s),
                scores(copied.transform(docs.withColumnRenamed("raw", "text")), copied));
        LanguageModelScorer viaUri = LanguageModelScorer.load(bare.toUri().toString());
        assertArrayEquals(model.weights(), viaUri.model().weights(), "a file: URI, as on any Hadoop file system");

        ModelFormatException none = assertThrows(ModelFormatException.class,
                () -> LanguageModelScorer.load(tmp.resolve("nowhere").toString()));
        assertTrue(none.getMessage().endsWith("nowhere: no such model directory"), none.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        ModelFormatException neither = assertThrows(ModelFormatException.class,
                () -> LanguageModelScorer.load(empty.toString()));
        assertTrue(neither.getMessage().contains("neither a saved LanguageModelScorer"), neither.getMessage());
    }

    @Test
    void outputColumnsCanBeRenamedAndClashesAreRefused() {
        LanguageModelScorer s = new LanguageModelScorer(model).setTextCol("body").setTopK(1).setTokensCol("n")
                .setLogLikelihoodCol("ll").setPerplexityCol("ppl").setBitsPerTokenCol("bpt").setTopKCol("next");
        assertEquals(List.of("id", "body", "n", "ll", "ppl", "bpt", "next"), Arrays.asList(s.transform(renamed()).columns()));
        LanguageModelScorer byDefault = new LanguageModelScorer(model).setTextCol("body").setTopK(1);
        assertEquals(scores(byDefault.transform(renamed()), byDefault), scores(s.transform(renamed()), s));
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> s.copy(new ParamMap().put(s.perplexityCol(), "n")).transformSchema(renamed().schema()));
        assertEquals("two output columns are both named 'n'", twice.getMessage());
        IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
                () -> s.copy(new ParamMap().put(s.tokensCol(), "id")).transformSchema(renamed().schema()));
        assertEquals("input already has a column 'id'", clash.getMessage());
    }

    /** exp(−Σ log_likelihood / Σ tokens) over a scored Dataset: the corpus perplexity, smaller is better. */
    static final class CorpusPerplexity extends Evaluator {
        private static final long serialVersionUID = 1L;
        private final String uid = Identifiable$.MODULE$.randomUID("corpusPerplexity");

        @Override
        public double evaluate(Dataset<?> scored) {
            Row sums = scored.agg(functions.sum("log_likelihood"), functions.sum("tokens")).first();
            return Math.exp(-sums.getDouble(0) / sums.getLong(1));
        }

        @Override
        public boolean isLargerBetter() {
            return false;
        }

        @Override
        public Evaluator copy(ParamMap extra) {
            return defaultCopy(extra);
        }

        @Override
        public String uid() {
            return uid;
        }
    }

    /**
     * Model selection without labels: which text normalisation suits this model, judged by held-out corpus
     * perplexity. The grid varies a Spark stage before the scorer; TrainValidationSplit copies the pipeline
     * (and so the scorer) with each ParamMap. The model learns nothing, so the training half is only "fitted".
     */
    @Test
    void trainValidationSplitPicksTheNormalisationWithTheLowestHeldOutPerplexity() {
        SQLTransformer normalise = new SQLTransformer();
        LanguageModelScorer scorer = new LanguageModelScorer(model).setTextCol("body");
        Pipeline p = new Pipeline().setStages(new PipelineStage[] {normalise, scorer});
        String asIs = "SELECT id, trim(raw) AS body FROM __THIS__";
        String lower = "SELECT id, lower(trim(raw)) AS body FROM __THIS__";
        String upper = "SELECT id, upper(trim(raw)) AS body FROM __THIS__";
        ParamMap[] grid = new ParamGridBuilder()
                .addGrid(normalise.statement(), scala.jdk.javaapi.CollectionConverters.asScala(List.of(asIs, lower, upper)))
                .build();
        TrainValidationSplit tvs = new TrainValidationSplit().setEstimator(p).setEstimatorParamMaps(grid)
                .setEvaluator(new CorpusPerplexity()).setTrainRatio(0.5).setSeed(7);
        TrainValidationSplitModel best = tvs.fit(docs);

        double[] metrics = best.validationMetrics();
        assertEquals(grid.length, metrics.length);
        // TrainValidationSplit validates on the second part of randomSplit([r, 1 - r], seed).
        Dataset<Row> validation = docs.randomSplit(new double[] {0.5, 0.5}, 7)[1];
        String view = "validation_" + Math.abs(System.nanoTime());
        validation.createOrReplaceTempView(view);
        int argmin = 0;
        for (int i = 0; i < grid.length; i++) {
            String stmt = grid[i].apply(normalise.statement());
            double direct = new CorpusPerplexity().evaluate(scorer.transform(spark.sql(stmt.replace("__THIS__", view))));
            assertEquals(direct, metrics[i], 1e-9 * direct, stmt);
            argmin = metrics[i] < metrics[argmin] ? i : argmin;
        }
        PipelineModel chosen = (PipelineModel) best.bestModel();
        assertEquals(grid[argmin].apply(normalise.statement()), ((SQLTransformer) chosen.stages()[0]).getStatement());
        assertTrue(metrics[2] > 2 * Math.max(metrics[0], metrics[1]), "all capitals is not text this model knows: "
                + Arrays.toString(metrics));
        assertEquals(scorer.uid(), chosen.stages()[1].uid(), "the best model holds a copy of the scorer");
    }

    /** A pipeline saved afresh under {@code name}; returns its scorer stage's model directory (Hadoop path). */
    static org.apache.hadoop.fs.Path savedModelDir(String name) throws IOException {
        LanguageModelScorer scorer = new LanguageModelScorer(model).setTextCol("body");
        Path dir = tmp.resolve(name);
        pipeline(scorer).fit(docs).write().save(dir.toString());
        return fs().makeQualified(new org.apache.hadoop.fs.Path(stageDir(dir, scorer.uid()).resolve("model").toString()));
    }

    static FileSystem fs() throws IOException {
        return FileSystem.getLocal(spark.sessionState().newHadoopConf());
    }

    /** Replaces a file through Hadoop (its checksum kept consistent), as a careless or hostile writer would. */
    static void overwrite(org.apache.hadoop.fs.Path f, byte[] content) throws IOException {
        try (OutputStream os = fs().create(f, true)) {
            os.write(content);
        }
    }

    static byte[] bytes(org.apache.hadoop.fs.Path f) throws IOException {
        return Files.readAllBytes(Path.of(f.toUri()));
    }

    /** PipelineModel.load of the pipeline holding {@code modelDir} fails with one line naming {@code file}. */
    static void failsToLoad(org.apache.hadoop.fs.Path modelDir, String file, String fragment) {
        String pipelineDir = modelDir.getParent().getParent().getParent().toString();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PipelineModel.load(pipelineDir));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.startsWith(new org.apache.hadoop.fs.Path(modelDir, file) + ":"), "names the real file: " + m);
        assertTrue(m.contains(fragment), "'" + m + "' should mention '" + fragment + "'");
        assertFalse(m.contains("seqspark-model-"), "no temporary path: " + m);
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            assertFalse(String.valueOf(c.getMessage()).contains("seqspark-model-"), "no temporary path in the cause: " + c);
        }
    }

    @Test
    void aTamperedModelDirectoryFailsToLoadWithAOneLineError() throws IOException {
        org.apache.hadoop.fs.Path m = savedModelDir("t-weights");
        byte[] w = bytes(new org.apache.hadoop.fs.Path(m, "weights.safetensors"));
        overwrite(new org.apache.hadoop.fs.Path(m, "weights.safetensors"), Arrays.copyOf(w, w.length / 2));
        failsToLoad(m, "weights.safetensors", "truncated file");

        m = savedModelDir("t-vocab");
        String vocab = new String(bytes(new org.apache.hadoop.fs.Path(m, "vocab.json")), StandardCharsets.UTF_8);
        overwrite(new org.apache.hadoop.fs.Path(m, "vocab.json"), vocab.replace(",\"6\"]", "]").getBytes(StandardCharsets.UTF_8));
        failsToLoad(m, "vocab.json", "has 69 tokens, but config.json says vocab_size 70");

        m = savedModelDir("t-config");
        String config = new String(bytes(new org.apache.hadoop.fs.Path(m, "config.json")), StandardCharsets.UTF_8);
        overwrite(new org.apache.hadoop.fs.Path(m, "config.json"),
                config.replace("\"hidden_size\" : 32", "\"hidden_size\" : 16").getBytes(StandardCharsets.UTF_8));
        failsToLoad(m, "weights.safetensors", "but config.json implies");

        m = savedModelDir("t-missing");
        fs().delete(new org.apache.hadoop.fs.Path(m, "vocab.json"), false);
        failsToLoad(m, "vocab.json", "missing");

        // A hostile header, written with plain java.nio rather than Hadoop: refused before anything is allocated.
        m = savedModelDir("t-header");
        Path weights = Path.of(new org.apache.hadoop.fs.Path(m, "weights.safetensors").toUri());
        byte[] forged = Files.readAllBytes(weights);
        java.nio.ByteBuffer.wrap(forged).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(weights, forged);
        failsToLoad(m, "weights.safetensors", "does not fit");

        m = savedModelDir("t-nomodel");
        fs().delete(m, true);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> PipelineModel.load(tmp.resolve("t-nomodel").toString()));
        assertEquals(m + ": no such model directory", e.getMessage());
    }
}
