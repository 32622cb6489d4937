package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Location;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.nn.Pooling;
import dev.seqspark.testutil.SparkTestSession;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.ClassifierTask;
import dev.seqspark.train.ClassifierTrainConfig;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.OuterUpdate;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.TrainingLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.feature.IndexToString;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark ML side on the shared local session: SequenceClassifier (an Estimator) fits the same weights as the
 * training loop it wraps, its model is a Transformer with Spark's classifier columns (nominal prediction metadata,
 * null for texts without a token), it works in a Pipeline with StringIndexer and IndexToString and inside
 * CrossValidator with MulticlassClassificationEvaluator, and every stage copies, saves and loads; the
 * LanguageModelEstimator returns a LanguageModelScorer trained as the language model's loop trains.
 */
class SequenceClassifierTest {
    static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType, false)
            .add("author", DataTypes.StringType, true).add("passage", DataTypes.StringType, true);
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Dataset<Row> data;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        List<Row> rows = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/classify/authorship_small.tsv"), StandardCharsets.UTF_8)) {
            int tab = line.indexOf('\t');
            rows.add(RowFactory.create((long) rows.size(), line.substring(0, tab), line.substring(tab + 1)));
        }
        data = spark.createDataFrame(rows, SCHEMA).repartition(2).cache();
        data.count();
    }

    /** A small, quick configuration. */
    static SequenceClassifier small() {
        return new SequenceClassifier().setTextCol("passage").setLabelCol("author").setEmbeddingDim(8)
                .setBlocks("lstm:8,gru:8").setEpochs(2).setBatchSize(16).setMaxLength(30).setWorkers(2).setSeed(3);
    }

    @Test
    void everyParamHasADefaultAndADoc() {
        SequenceClassifier sc = new SequenceClassifier();
        assertEquals(29, sc.params().length);
        for (Param<?> p : sc.params()) {
            assertTrue(sc.hasDefault(p), p.name() + " has a default");
            assertTrue(p.doc().length() > 20, p.name() + " has a doc");
        }
        assertTrue(sc.explainParams().contains("blocks: the recurrent blocks"), sc.explainParams());
        assertThrows(IllegalArgumentException.class, () -> sc.setBlocks("lstm:x"));
        assertThrows(IllegalArgumentException.class, () -> sc.setPooling("median"));
        assertThrows(IllegalArgumentException.class, () -> sc.setValidationFraction(1.0));
        SequenceClassifier s = small();
        SequenceClassifier c = s.copy(new ParamMap().put(s.epochs(), 7));
        assertEquals(7, c.getEpochs());
        assertEquals("lstm:8,gru:8", c.getBlocks());
        assertEquals(s.uid(), c.uid());
        assertEquals(2, s.getEpochs(), "copy leaves the original alone");
    }

    @Test
    void fitIsTheTrainingLoopAndTheModelHasSparksClassifierColumns() {
        SequenceClassificationModel m = small().fit(data);
        assertEquals(List.of("dickens", "twain"), m.model().labels(), "120 each: ties by name");
        // The same training, by hand: corpus, loop, BMUF with W = 2.
        ClassifierCorpus.Options o = new ClassifierCorpus.Options("passage", "author",
                new Tokenizer(new TokenizerConfig(TokenizerConfig.Level.WORD, true, true)), 1, 20000, 30, 0.0, 3, 2);
        try (ClassifierCorpus c = ClassifierCorpus.build(spark, data, null, o, null, null)) {
            ClassifierSpec spec = new ClassifierSpec(c.vocab.size(), 8, ClassifierSpec.parseBlocks("lstm:8,gru:8"),
                    Pooling.LAST, 2);
            ClassifierTrainConfig cfg = new ClassifierTrainConfig(16, "adam", 0.002, 1.0, 3, null);
            ClassifierTask task = new ClassifierTask(spec, cfg);
            ModelState last = new TrainingLoop(new SparkWorkers<>(JavaSparkContext.fromSparkContext(spark.sparkContext()),
                    c, task), 0, OuterUpdate.bmuf(0.5, 1.0), null).run(ShardTrainer.initialState(task), 0, 2);
            assertArrayEquals(last.weights(), m.model().weights(), "fit = TrainingRun = the training loop");
        }
        Dataset<Row> withEmpty = data.limit(20).union(spark.createDataFrame(List.of(RowFactory.create(-1L, "twain", null),
                RowFactory.create(-2L, "twain", "  ")), SCHEMA));
        Dataset<Row> out = m.transform(withEmpty);
        assertEquals(List.of("id", "author", "passage", "rawPrediction", "probability", "prediction"),
                Arrays.asList(out.columns()));
        Attribute a = Attribute.fromStructField(out.schema().apply("prediction"));
        assertTrue(a instanceof NominalAttribute n && Arrays.equals(n.values().get(), new String[] {"dickens", "twain"}));
        for (Row r : out.collectAsList()) {
            if (r.getLong(0) < 0) {
                assertTrue(r.isNullAt(3) && r.isNullAt(4) && r.isNullAt(5), "no token: null columns");
                continue;
            }
            Vector raw = (Vector) r.get(3);
            Vector p = (Vector) r.get(4);
            assertEquals(2, p.size());
            assertEquals(1.0, p.apply(0) + p.apply(1), 1e-12);
            assertEquals(raw.argmax(), (int) r.getDouble(5));
            assertEquals(p.argmax(), (int) r.getDouble(5));
        }
        Dataset<Row> only = m.copy(new ParamMap().put(m.rawPredictionCol(), "").put(m.probabilityCol(), "")).transform(data);
        assertEquals(List.of("id", "author", "passage", "prediction"), Arrays.asList(only.columns()));
    }

    /** StringIndexer → SequenceClassifier on the index → IndexToString (from the prediction's metadata alone). */
    static Pipeline pipeline(SequenceClassifier sc) {
        StringIndexer si = new StringIndexer().setInputCol("author").setOutputCol("label").setStringOrderType("alphabetAsc");
        IndexToString back = new IndexToString().setInputCol("prediction").setOutputCol("predictedAuthor");
        return new Pipeline().setStages(new PipelineStage[] {si, sc.setLabelCol("label"), back});
    }

    static Map<Long, List<Object>> predictions(Dataset<Row> out) {
        Map<Long, List<Object>> m = new TreeMap<>();
        for (Row r : out.select("id", "prediction", "probability", "predictedAuthor").collectAsList()) {
            m.put(r.getLong(0), List.of(r.get(1), ((Vector) r.get(2)).toArray()[0], r.get(3)));
        }
        return m;
    }

    @Test
    void aPipelineWithStringIndexerSavesLoadsAndPredictsTheSame() throws IOException {
        PipelineModel pm = pipeline(small().setPooling("mean").setLearningRate(0.02).setEpochs(3)).fit(data);
        Dataset<Row> out = pm.transform(data);
        SequenceClassificationModel m = (SequenceClassificationModel) pm.stages()[1];
        assertEquals(List.of("dickens", "twain"), m.model().labels(), "names from the StringIndexer's metadata");
        double accuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(out);
        assertTrue(accuracy > 0.5, "better than chance on its training data: " + accuracy);
        Row r = out.first();
        assertEquals(m.model().labels().get((int) r.getDouble(r.fieldIndex("prediction"))),
                r.getString(r.fieldIndex("predictedAuthor")));
        String dir = tmp.resolve("pipeline").toString();
        pm.write().overwrite().save(dir);
        assertTrue(Files.isRegularFile(tmp.resolve("pipeline/stages/1_" + m.uid() + "/model/labels.json")),
                "the model goes inside, as a SeqSpark model directory");
        PipelineModel back = PipelineModel.load(dir);
        assertEquals(predictions(out), predictions(back.transform(data)));
        // The model alone, and a bare model directory, load too.
        m.write().overwrite().save(tmp.resolve("model").toString());
        SequenceClassificationModel again = SequenceClassificationModel.load(tmp.resolve("model").toString());
        assertEquals(m.uid(), again.uid());
        assertArrayEquals(m.model().weights(), again.model().weights());
        ModelDir.write(Location.local(tmp.resolve("bare")), m.model(), List.of(), false);
        assertArrayEquals(m.model().weights(), SequenceClassificationModel.load(tmp.resolve("bare").toString()).model().weights());
        SequenceClassifier sc = small();
        sc.write().overwrite().save(tmp.resolve("estimator").toString());
        SequenceClassifier loaded = SequenceClassifier.load(tmp.resolve("estimator").toString());
        assertEquals(sc.uid(), loaded.uid());
        assertEquals(sc.extractParamMap().toString(), loaded.extractParamMap().toString());
    }

    @Test
    void crossValidatorChoosesAmongParamMaps() throws IOException {
        SequenceClassifier sc = small().setEpochs(1);
        ParamMap[] grid = new ParamGridBuilder().addGrid(sc.pooling(),
                scala.jdk.javaapi.CollectionConverters.asScala(List.of("last", "mean"))).build();
        CrossValidator cv = new CrossValidator().setEstimator(pipeline(sc)).setEstimatorParamMaps(grid).setNumFolds(2)
                .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("f1")).setSeed(1);
        CrossValidatorModel cvm = cv.fit(data);
        assertEquals(2, cvm.avgMetrics().length);
        PipelineModel best = (PipelineModel) cvm.bestModel();
        SequenceClassificationModel m = (SequenceClassificationModel) best.stages()[1];
        assertTrue(List.of(Pooling.LAST, Pooling.MEAN).contains(m.model().spec().pooling()));
        assertSame(sc.getClass(), m.parent().getClass());
        String dir = tmp.resolve("cv").toString();
        cvm.write().overwrite().save(dir);
        CrossValidatorModel back = CrossValidatorModel.load(dir);
        assertEquals(predictions(best.transform(data)), predictions(back.bestModel().transform(data)));
    }

    @Test
    void badInputIsAClearError() {
        String m = assertThrows(IllegalArgumentException.class, () -> small().setLabelCol("writer").fit(data)).getMessage();
        assertTrue(m.contains("the input has no label column 'writer' (columns: id, author, passage)"), m);
        m = assertThrows(IllegalArgumentException.class, () -> small().fit(data.filter("author = 'twain'"))).getMessage();
        assertTrue(m.contains("has a single class 'twain'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> small().setTextCol("id").fit(data)).getMessage();
        assertTrue(m.contains("the text column 'id' is bigint, not a string"), m);
    }

    @Test
    void languageModelEstimatorReturnsTheScorerTheTrainingLoopTrains() throws IOException {
        List<Row> lines = new ArrayList<>();
        List<String> book = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8).subList(40, 400);
        for (String l : book) {
            lines.add(RowFactory.create(l));
        }
        Dataset<Row> text = spark.createDataFrame(lines, new StructType().add("line", DataTypes.StringType, true)).coalesce(1);
        LanguageModelEstimator est = new LanguageModelEstimator().setTextCol("line").setHiddenSize(16).setBatchSize(4)
                .setNumSteps(10).setEpochs(1).setWorkers(2).setLowercase(true).setLettersOnly(true);
        LanguageModelScorer scorer = est.fit(text);
        assertSame(est, scorer.parent());
        assertArrayEquals(scorer.model().weights(), est.copy(new ParamMap()).setRounds("jobs").fit(text).model().weights(),
                "rounds through the driver's channel (auto here) or a job each: the same weights");
        assertEquals("line", scorer.getTextCol());
        assertEquals(28, scorer.model().vocab().size(), "letters-only lower-case characters, <unk> and space");
        Row r = scorer.transform(text.limit(3)).first();
        assertTrue(r.getDouble(r.fieldIndex("log_likelihood")) < 0);
        // In a pipeline after a SQLTransformer; the fitted pipeline saves and loads with the scorer's model inside.
        PipelineModel pm = new Pipeline().setStages(new PipelineStage[] {
                new SQLTransformer().setStatement("SELECT trim(line) AS line FROM __THIS__"), est}).fit(text);
        String dir = tmp.resolve("lm-pipeline").toString();
        pm.write().overwrite().save(dir);
        LanguageModelScorer back = (LanguageModelScorer) PipelineModel.load(dir).stages()[1];
        assertArrayEquals(((LanguageModelScorer) pm.stages()[1]).model().weights(), back.model().weights());
        est.write().overwrite().save(tmp.resolve("lm-est").toString());
        LanguageModelEstimator loaded = LanguageModelEstimator.load(tmp.resolve("lm-est").toString());
        assertEquals(est.extractParamMap().toString(), loaded.extractParamMap().toString());
        assertNotSame(est, loaded);
    }
}
