package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.testutil.Golden;
import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.Evaluator;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.ml.tuning.TrainValidationSplit;
import org.apache.spark.ml.tuning.TrainValidationSplitModel;
import org.apache.spark.ml.util.Identifiable$;
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
 * Pipeline with Spark's own stages, model selection with TrainValidationSplit.
 */
class LanguageModelScorerTest {
    static final List<String> OUTPUTS = List.of("tokens", "log_likelihood", "perplexity", "bits_per_token");
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Model model;
    /** (id bigint, raw string): lines of the bundled corpus, plus a null and an empty record. */
    static Dataset<Row> docs;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        model = ModelDir.read(Golden.resource("torch_model"));
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
}
