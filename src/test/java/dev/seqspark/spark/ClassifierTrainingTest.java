package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.Pooling;
import dev.seqspark.testutil.SparkTestSession;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.ClassMetrics;
import dev.seqspark.train.ClassifierTask;
import dev.seqspark.train.ClassifierTrainConfig;
import dev.seqspark.train.LabeledRecords;
import dev.seqspark.train.LocalWorkers;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.OuterUpdate;
import dev.seqspark.train.RecordShard;
import dev.seqspark.train.Settings;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.TrainingLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Distributed classifier training on the shared local Spark session against the same computation in one JVM:
 * labels indexed as Spark's StringIndexer indexes them; the shards are the in-memory encoding dealt round-robin
 * (record i to shard i mod W), the validation split and the vocabulary as stated; W = 1 is the shard trainer bit
 * for bit; W workers (averaging and BMUF, every K batches) equal the local workers and their validation; retried
 * tasks change nothing; bad input is a clear error.
 */
class ClassifierTrainingTest {
    static final TokenizerConfig WORDS = new TokenizerConfig(TokenizerConfig.Level.WORD, true, true);
    static final StructType SCHEMA = new StructType().add("label", DataTypes.StringType, true).add("text", DataTypes.StringType, true);
    static SparkSession spark;
    static JavaSparkContext jsc;
    static List<Row> rows;
    static Dataset<Row> data;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        rows = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/classify/authorship_small.tsv"), StandardCharsets.UTF_8)) {
            int tab = line.indexOf('\t');
            rows.add(RowFactory.create(line.substring(0, tab), line.substring(tab + 1)));
        }
        rows.add(RowFactory.create("twain", ""));          // empty texts are skipped and counted
        rows.add(RowFactory.create("dickens", null));
        rows.add(RowFactory.create("twain", " 1234 -- !! "));   // nothing left after letters_only
        data = spark.createDataFrame(rows, SCHEMA).repartition(3).cache();
        data.count();
    }

    static ClassifierCorpus.Options options(int workers, double valid) {
        return new ClassifierCorpus.Options("text", "label", new Tokenizer(WORDS), 2, 0, 40, valid, 11, workers);
    }

    static final List<RecurrentBlock> BLOCKS = ClassifierSpec.parseBlocks("lstm:8,gru:8");

    static ClassifierSpec spec(ClassifierCorpus c, Pooling pooling) {
        return new ClassifierSpec(c.vocab.size(), 6, BLOCKS, pooling, c.labels.size());
    }

    static final ClassifierTrainConfig CFG = new ClassifierTrainConfig(8, "adam", 0.01, 1.0, 5, null);

    @Test
    void labelsAreIndexedAsSparksStringIndexer() {
        List<Row> tied = new ArrayList<>();
        for (String l : List.of("b", "c", "a", "c", "b", "d", "a", "zz", "zz")) {
            tied.add(RowFactory.create(l, "x"));
        }
        Dataset<Row> d = spark.createDataFrame(tied, SCHEMA);
        StringIndexerModel si = new StringIndexer().setInputCol("label").setOutputCol("i").fit(d);
        assertEquals(Arrays.asList(si.labelsArray()[0]), Labels.fit(d, "label").names());
        assertEquals(List.of("a", "b", "c", "zz", "d"), Labels.fit(d, "label").names(), "by frequency, ties by name");
        Dataset<Row> indexed = si.transform(d);
        Labels numeric = Labels.fit(indexed, "i");
        assertTrue(numeric.numeric());
        assertEquals(Arrays.asList(si.labelsArray()[0]), numeric.names(), "a StringIndexer's output keeps its names");
    }

    @Test
    void shardsAreTheRecordsDealtRoundRobin() {
        try (ClassifierCorpus c = ClassifierCorpus.build(spark, data, null, options(3, 0.2), null, null)) {
            assertEquals(List.of("twain", "dickens"), c.labels.names(), "122 twain records (2 without a token) to 121");
            // In memory: the same order (Spark's partition order of the cached Dataset), split, vocabulary, encoding.
            List<Row> ordered = data.collectAsList();
            Tokenizer tok = new Tokenizer(WORDS);
            List<String> trainTokens = new ArrayList<>();
            for (int i = 0; i < ordered.size(); i++) {
                if (!ClassifierCorpus.isValid(11, i, 0.2)) {
                    List<String> t = tok.textTokens(ordered.get(i).isNullAt(1) ? "" : ordered.get(i).getString(1));
                    trainTokens.addAll(t.subList(0, Math.min(40, t.size())));
                }
            }
            LinkedHashMap<String, Long> counts = Vocab.count(trainTokens);
            Vocab v = Vocab.build(counts, 2, List.of());
            assertEquals(v.tokens(), c.vocab.tokens(), "vocabulary of the training records, d2l's order, min_freq 2");
            List<LabeledRecords[]> shards = c.collect();
            long empty = 0;
            for (int k = 0; k < 3; k++) {
                List<int[]> train = new ArrayList<>();
                List<int[]> valid = new ArrayList<>();
                List<Integer> trainLabels = new ArrayList<>();
                for (int i = k; i < ordered.size(); i += 3) {
                    Row r = ordered.get(i);
                    int[] ids = dev.seqspark.io.Model.encode(tok, v, 40, r.isNullAt(1) ? null : r.getString(1));
                    if (ids.length == 0) {
                        empty++;
                        continue;
                    }
                    if (ClassifierCorpus.isValid(11, i, 0.2)) {
                        valid.add(ids);
                    } else {
                        train.add(ids);
                        trainLabels.add(c.labels.names().indexOf(r.getString(0)));
                    }
                }
                assertArrayEquals(train.toArray(int[][]::new), shards.get(k)[0].tokens(), "shard " + k + " training records");
                assertArrayEquals(trainLabels.stream().mapToInt(Integer::intValue).toArray(), shards.get(k)[0].labels());
                assertArrayEquals(valid.toArray(int[][]::new), shards.get(k)[1].tokens(), "shard " + k + " validation records");
            }
            assertEquals(3, empty);
            assertEquals(3, c.emptySkipped);
            assertTrue(c.truncated > 0, "passages longer than 40 words are cut");
            assertTrue(c.validRecords > 30 && c.validRecords < 70, "about 20% of 240: " + c.validRecords);
        }
    }

    @Test
    void oneWorkerIsTheShardTrainerBitForBit() {
        try (ClassifierCorpus c = ClassifierCorpus.build(spark, data, null, options(1, 0.2), null, null)) {
            ClassifierTask task = new ClassifierTask(spec(c, Pooling.LAST), CFG);
            ModelState start = ShardTrainer.startingFrom(task, task.spec().initParams(1).values);
            ModelState viaSpark = new TrainingLoop(new SparkWorkers<>(jsc, c, task), 0, null).run(start, 0, 2);
            RecordShard shard = new RecordShard(0, c.collect().get(0)[0], LabeledRecords.empty(), 0, 0);
            ShardTrainer<RecordShard> t = new ShardTrainer<>(task);
            ModelState direct = start;
            for (int epoch = 0; epoch < 2; epoch++) {
                direct = t.train(direct, null, shard, epoch, 0, 0, null).state();
            }
            assertArrayEquals(direct.weights(), viaSpark.weights());
            assertArrayEquals(direct.optimizerState(), viaSpark.optimizerState());
        }
    }

    @Test
    void wWorkersEqualTheLocalWorkersAndTheirValidation() {
        try (ClassifierCorpus c = ClassifierCorpus.build(spark, data, null, options(3, 0.25), null, null)) {
            ClassifierSpec spec = new ClassifierSpec(c.vocab.size(), 5, ClassifierSpec.parseBlocks("gru:6:bi:layers=2:dropout=0.2"),
                    Pooling.MEAN, c.labels.size());
            ClassifierTrainConfig cfg = new ClassifierTrainConfig(6, "sgd", 0.5, 1.0, 9, new float[] {1f, 2.5f});
            ClassifierTask task = new ClassifierTask(spec, cfg);
            ModelState start = ShardTrainer.startingFrom(task, spec.initParams(2).values);
            List<RecordShard> shards = new ArrayList<>();
            for (LabeledRecords[] s : c.collect()) {
                shards.add(new RecordShard(shards.size(), s[0], s[1], 0, 0));
            }
            for (int sync : new int[] {0, 2}) {
                OuterUpdate outer = sync == 0 ? OuterUpdate.average() : OuterUpdate.bmuf(OuterUpdate.defaultMomentum(3), 1.0);
                LocalWorkers<RecordShard> lw = LocalWorkers.of(task, shards);
                ModelState local = new TrainingLoop(lw, sync, outer, null).run(start, 0, 1);
                ModelState viaSpark = null;
                SparkWorkers<RecordShard> sw = null;
                for (SparkWorkers.Rounds rounds : SparkWorkers.Rounds.values()) {
                    sw = new SparkWorkers<>(jsc, c, task, rounds, 0);
                    viaSpark = new TrainingLoop(sw, sync, outer, null).run(start, 0, 1);
                    assertArrayEquals(local.weights(), viaSpark.weights(), "sync_every " + sync + ", " + rounds);
                    assertArrayEquals(local.blockMomentum(), viaSpark.blockMomentum());
                }
                ClassMetrics a = (ClassMetrics) sw.validate(viaSpark.weights());
                ClassMetrics b = (ClassMetrics) lw.validate(local.weights());
                assertEquals(b.count(), a.count());
                // each record's loss is the same wherever it is evaluated; a task's records share batches, so the
                // double sum runs in another order than one machine's: equal to 1e-12 of it (one record moves it 1e-2)
                assertEquals(b.lossSum(), a.lossSum(), 1e-12 * b.lossSum(), "validation: each record counted once");
                assertEquals(b.correct(), a.correct());
                assertTrue(Arrays.deepEquals(b.confusion(), a.confusion()));
                assertEquals(c.validRecords, a.count());
            }
        }
    }

    @Test
    void retriedTasksGiveTheSameWeights() {
        try (ClassifierCorpus c = ClassifierCorpus.build(spark, data, null, options(2, 0.1), null, null)) {
            ClassifierTask task = new ClassifierTask(spec(c, Pooling.MAX), CFG);
            ModelState start = ShardTrainer.startingFrom(task, task.spec().initParams(4).values);
            ModelState clean = new TrainingLoop(new SparkWorkers<>(jsc, c, task), 3, null).run(start, 0, 1);
            for (SparkWorkers.Rounds rounds : SparkWorkers.Rounds.values()) {
                ModelState retried = new TrainingLoop(new SparkWorkers<>(jsc, c, task, true, rounds, 0), 3, null)
                        .run(start, 0, 1);
                assertArrayEquals(clean.weights(), retried.weights(), rounds.toString());
            }
        }
    }

    static String error(Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        return e.getMessage();
    }

    @Test
    void badInputIsAClearError() {
        String m = error(() -> ClassifierCorpus.build(spark, data.drop("label"), null, options(2, 0.1), null, null));
        assertTrue(m.contains("the input has no label column 'label' (columns: text)"), m);
        m = error(() -> ClassifierCorpus.build(spark, data.withColumnRenamed("text", "body"), null, options(2, 0.1), null, null));
        assertTrue(m.contains("no text column 'text'"), m);
        Dataset<Row> one = data.filter("label = 'twain'");
        m = error(() -> ClassifierCorpus.build(spark, one, null, options(2, 0.1), null, null));
        assertTrue(m.contains("the label column 'label' has a single class 'twain'; a classifier needs at least two"), m);
        Dataset<Row> nulls = data.union(spark.createDataFrame(List.of(RowFactory.create(null, "who wrote this")), SCHEMA));
        m = error(() -> ClassifierCorpus.build(spark, nulls, null, options(2, 0.1), null, null));
        assertTrue(m.contains("the label column 'label' is null in 1 record(s)"), m);
        Dataset<Row> unseen = spark.createDataFrame(List.of(RowFactory.create("austen", "It is a truth universally acknowledged"),
                RowFactory.create("twain", "Tom!")), SCHEMA);
        m = error(() -> ClassifierCorpus.build(spark, data, unseen, options(2, 0.1), null, null));
        assertTrue(m.contains("1 validation record(s) have labels the training data does not have ('austen')"), m);
        Dataset<Row> empties = spark.createDataFrame(List.of(RowFactory.create("a", ""), RowFactory.create("b", null)), SCHEMA);
        m = error(() -> ClassifierCorpus.build(spark, empties, null, options(1, 0), null, null));
        assertTrue(m.contains("no training records with a token (2 empty or null texts skipped)"), m);
        m = error(() -> ClassifierCorpus.build(spark, data, null, options(400, 0.1), null, null));
        assertTrue(m.contains("too few records for 400 workers"), m);
        m = error(() -> Settings.classWeights("twain=2,austen=1", List.of("dickens", "twain"), new long[] {3, 1}));
        assertTrue(m.contains("'austen' is not a class"), m);
        assertArrayEquals(new float[] {1f, 2f}, Settings.classWeights("twain=2", List.of("dickens", "twain"), null));
        assertArrayEquals(new float[] {4f / 6, 4f / 2}, Settings.classWeights("balanced", List.of("a", "b"),
                new long[] {3, 1}));
    }
}
