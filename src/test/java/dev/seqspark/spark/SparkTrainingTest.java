package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.testutil.SparkTestSession;
import dev.seqspark.text.Partitioning;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.Evaluator;
import dev.seqspark.train.LanguageModelTask;
import dev.seqspark.train.LocalWorkers;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.TokenShard;
import dev.seqspark.train.TrainConfig;
import dev.seqspark.train.TrainingLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Distributed training on a real local Spark session against the same computation in one JVM: the
 * sharded corpus is the in-memory token stream and d2l vocabulary, whatever the file splits; W = 1 is the
 * shard trainer bit for bit; W workers averaged once per epoch are W shard trainers averaged; validation
 * equals single-machine evaluation; retried tasks change nothing.
 */
class SparkTrainingTest {
    static final TokenizerConfig TOK = new TokenizerConfig(TokenizerConfig.Level.CHAR, true, true);
    static final TrainConfig CFG = new TrainConfig(4, 8, Partitioning.SEQUENTIAL, null, "adam", 0.01, 1.0, 3);

    /** A one-layer GRU of 16 units over {@code c}'s vocabulary, trained with {@link #CFG}. */
    static LanguageModelTask gru16(ShardedCorpus c) {
        return new LanguageModelTask(new LanguageModelSpec(CellType.GRU, c.vocab.size(), 0, 16, 1, true, 0), CFG,
                c.validDims);
    }
    static SparkSession spark;
    static JavaSparkContext jsc;
    @TempDir
    static Path tmp;
    static Path corpusDir;
    static List<String> lines;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> all = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8);
        lines = all.subList(40, 640);
        corpusDir = tmp.resolve("corpus");
        Files.createDirectories(corpusDir);
        // One file, read in many splits where a test asks for it (spark.sql.files.maxPartitionBytes).
        Files.write(corpusDir.resolve("part-a.txt"), lines, StandardCharsets.UTF_8);
    }

    static ShardedCorpus corpus(int workers, double validFraction) {
        return ShardedCorpus.build(spark, spark.read().textFile(corpusDir.toString()).javaRDD(), corpusDir.toString(),
                new Tokenizer(TOK), null, 0, 0, validFraction, workers, CFG.batchSize(), CFG.numSteps(), TokenShard.minTokens(CFG));
    }

    /** The in-memory pipeline: the whole stream and d2l's vocabulary over it. */
    static int[] inMemoryStream(Vocab[] vocabOut) {
        List<String> toks = new Tokenizer(TOK).streamTokens(lines);
        Vocab v = Vocab.build(Vocab.count(toks), 0, List.of());
        vocabOut[0] = v;
        return v.encode(toks);
    }

    static int[] concat(List<int[]> parts) {
        int n = parts.stream().mapToInt(a -> a.length).sum();
        int[] out = new int[n];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    @Test
    void aWordVocabularyIsCountedOnTheExecutorsWithMinFreqAndMaxVocab() {
        dev.seqspark.text.TokenizerConfig words = new dev.seqspark.text.TokenizerConfig(
                dev.seqspark.text.TokenizerConfig.Level.WORD, true, true);
        LinkedHashMap<String, Long> counts = Vocab.count(new Tokenizer(words).streamTokens(lines));
        spark.conf().set("spark.sql.files.maxPartitionBytes", "4096");   // many partitions to merge
        try {
            for (int[] limits : new int[][] {{0, 0}, {2, 0}, {0, 50}, {3, 40}, {0, 100_000}}) {
                try (ShardedCorpus c = ShardedCorpus.build(spark, spark.read().textFile(corpusDir.toString()).javaRDD(),
                        corpusDir.toString(), new Tokenizer(words), null, limits[0], limits[1], 0.1, 2, CFG.batchSize(),
                        CFG.numSteps(), 10)) {
                    assertEquals(Vocab.build(counts, limits[0], limits[1], List.of()).tokens(), c.vocab.tokens(),
                            "min_freq " + limits[0] + ", max_vocab " + limits[1]);
                    if (limits[1] > 0 && limits[1] < counts.size()) {
                        assertEquals(limits[0] == 0 ? limits[1] : Math.min(limits[1], c.vocab.size()), c.vocab.size());
                    }
                }
            }
        } finally {
            spark.conf().unset("spark.sql.files.maxPartitionBytes");
        }
    }

    @Test
    void shardsAreTheStreamCutIntoContiguousRanges() {
        Vocab[] v = new Vocab[1];
        int[] stream = inMemoryStream(v);
        spark.conf().set("spark.sql.files.maxPartitionBytes", "4096");   // many input splits
        try (ShardedCorpus c = corpus(3, 0.1)) {
            assertEquals(v[0].tokens(), c.vocab.tokens(), "vocabulary from one distributed pass = d2l's");
            assertEquals(stream.length, c.tokens);
            List<TokenShard> shards = new ArrayList<>(c.shards().collect());
            shards.sort((a, b) -> Integer.compare(a.index(), b.index()));
            List<int[]> train = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                assertEquals(k, shards.get(k).index());
                assertEquals((k + 1) * c.trainTokens / 3 - k * c.trainTokens / 3, shards.get(k).train().length);
                train.add(shards.get(k).train());
            }
            int cut = (int) c.trainTokens;
            assertArrayEquals(java.util.Arrays.copyOf(stream, cut), concat(train));
        } finally {
            spark.conf().unset("spark.sql.files.maxPartitionBytes");
        }
    }

    @Test
    void oneWorkerIsTheShardTrainerBitForBit() {
        Vocab[] v = new Vocab[1];
        int[] stream = inMemoryStream(v);
        try (ShardedCorpus c = corpus(1, 0.1)) {
            LanguageModelSpec spec = new LanguageModelSpec(CellType.GRU, c.vocab.size(), 0, 16, 1, true, 0);
            LanguageModelTask task = new LanguageModelTask(spec, CFG, c.validDims);
            ModelState start = ShardTrainer.startingFrom(task, spec.initParams(1).values);
            ModelState viaSpark = new TrainingLoop(new SparkWorkers<>(jsc, c, task), 0, null).run(start, 0, 2);
            TokenShard shard = new TokenShard(0, java.util.Arrays.copyOf(stream, (int) c.trainTokens), new int[0], 0);
            ShardTrainer<TokenShard> t = new ShardTrainer<>(task);
            ModelState direct = start;
            for (int epoch = 0; epoch < 2; epoch++) {
                direct = t.train(direct, null, shard, epoch, 0, 0, null).state();
            }
            assertArrayEquals(direct.weights(), viaSpark.weights());
            assertArrayEquals(direct.optimizerState(), viaSpark.optimizerState());
        }
    }

    @Test
    void wWorkersAreWShardTrainersAveragedAndValidationIsExact() {
        Vocab[] v = new Vocab[1];
        int[] stream = inMemoryStream(v);
        try (ShardedCorpus c = corpus(3, 0.15)) {
            LanguageModelSpec spec = new LanguageModelSpec(CellType.LSTM, c.vocab.size(), 0, 12, 2, true, 0.1);
            LanguageModelTask task = new LanguageModelTask(spec, CFG, c.validDims);
            ModelState start = ShardTrainer.startingFrom(task, spec.initParams(2).values);
            int cut = (int) c.trainTokens;
            int[] train = java.util.Arrays.copyOf(stream, cut);
            int[] valid = java.util.Arrays.copyOfRange(stream, cut, stream.length);
            for (int sync : new int[] {0, 3}) {
              for (SparkWorkers.Rounds rounds : SparkWorkers.Rounds.values()) {
                SparkWorkers<TokenShard> sw = new SparkWorkers<>(jsc, c, task, rounds, 0);
                ModelState viaSpark = new TrainingLoop(sw, sync, null).run(start, 0, 1);
                LocalWorkers<TokenShard> lw = LocalWorkers.of(task, train, valid, 3);
                ModelState local = new TrainingLoop(lw, sync, null).run(start, 0, 1);
                assertArrayEquals(local.weights(), viaSpark.weights(), "sync_every " + sync + ", " + rounds);
                dev.seqspark.train.OuterUpdate bmuf = dev.seqspark.train.OuterUpdate.bmuf(2.0 / 3, 1.0);
                assertArrayEquals(new TrainingLoop(lw, sync, bmuf, null).run(start, 0, 1).weights(),
                        new TrainingLoop(sw, sync, bmuf, null).run(start, 0, 1).weights(), "BMUF, sync_every " + sync + ", " + rounds);
                ModelState overlapped = new TrainingLoop(sw, e -> sync, bmuf, true, null).run(start, 0, 1);
                assertArrayEquals(new TrainingLoop(lw, e -> sync, bmuf, true, null).run(start, 0, 1).weights(),
                        overlapped.weights(), "BMUF, overlapped rounds, sync_every " + sync + ", " + rounds);
                if (sync > 0) {
                    assertFalse(java.util.Arrays.equals(overlapped.weights(),
                            new TrainingLoop(sw, sync, bmuf, null).run(start, 0, 1).weights()),
                            "overlapped rounds are not the same maths as rounds in turn");
                }
                Evaluator.Loss a = (Evaluator.Loss) sw.validate(viaSpark.weights());
                Evaluator.Loss b = Evaluator.evaluate(spec, viaSpark.weights(), valid, 0, valid.length,
                        CFG.batchSize(), CFG.numSteps());
                assertEquals(b.count(), a.count());
                // The shards' validation batches hold other rows than one machine's. Where the multiplies run in
                // VectorGemm (AVX-512) each row's result is the same FMA chain wherever the row sits (this held at
                // 1e-9 on such hosts); OpenBLAS's kernels (AVX2 hosts, the scalar execution) may round a row in the last
                // bit by its place in the batch: 1.2e-9 relative seen on a Zen 1 host. One token more or less would
                // move the sum by ~1e-4 of it.
                assertEquals(b.lossSum(), a.lossSum(), 1e-7 * b.lossSum(), "distributed validation = one machine's");
              }
            }
        }
    }

    @Test
    void retriedTasksGiveTheSameWeights() {
        try (ShardedCorpus c = corpus(2, 0.1)) {
            LanguageModelTask task = gru16(c);
            ModelState start = ShardTrainer.startingFrom(task, task.spec().initParams(4).values);
            for (dev.seqspark.train.OuterUpdate outer : List.of(dev.seqspark.train.OuterUpdate.average(),
                    dev.seqspark.train.OuterUpdate.bmuf(0.5, 1.0))) {
                for (boolean overlap : new boolean[] {false, true}) {
                    ModelState clean = new TrainingLoop(new SparkWorkers<>(jsc, c, task), e -> 2, outer, overlap, null)
                            .run(start, 0, 1);
                    for (SparkWorkers.Rounds rounds : SparkWorkers.Rounds.values()) {
                        String what = outer + ", overlapped " + overlap + ", " + rounds;
                        ModelState retried = new TrainingLoop(new SparkWorkers<>(jsc, c, task, true, rounds, 0), e -> 2,
                                outer, overlap, null).run(start, 0, 1);
                        assertArrayEquals(clean.weights(), retried.weights(), what);
                        assertArrayEquals(clean.blockMomentum(), retried.blockMomentum(), what);
                    }
                }
            }
        }
    }

    @Test
    void lostShardStatesAreReplayedBitForBit() {
        // Three shards on two task slots (one task trains two), Adam's moments kept on the executor between rounds:
        // forgetting them after every round, as a lost executor would, makes every task replay its shard's epoch.
        try (ShardedCorpus c = corpus(3, 0.1)) {
            LanguageModelTask task = gru16(c);
            ModelState start = ShardTrainer.startingFrom(task, task.spec().initParams(5).values);
            dev.seqspark.train.OuterUpdate bmuf = dev.seqspark.train.OuterUpdate.bmuf(0.5, 1.0);
            for (boolean overlap : new boolean[] {false, true}) {
                ModelState kept = new TrainingLoop(new SparkWorkers<>(jsc, c, task), e -> 2, bmuf, overlap, null)
                        .run(start, 0, 2);
                int[] rounds = {0};
                TrainingLoop.Listener forget = new TrainingLoop.Listener() {
                    @Override
                    public void roundEnd(int epoch, int round, int of, long examples, double seconds, double loss) {
                        ExecutorStates.forgetAll();
                        rounds[0]++;
                    }
                };
                ModelState replayed = new TrainingLoop(new SparkWorkers<>(jsc, c, task, false,
                        SparkWorkers.Rounds.JOBS, 0), e -> 2, bmuf, overlap, forget)
                        .run(start, 0, 2);
                assertTrue(rounds[0] >= 4, "several rounds per epoch, so later ones replay: " + rounds[0]);
                assertArrayEquals(kept.weights(), replayed.weights(), "overlapped " + overlap);
                assertArrayEquals(kept.optimizerState(), replayed.optimizerState(), "overlapped " + overlap);
                assertEquals(kept.optimizerSteps(), replayed.optimizerSteps());
            }
        }
    }
}
