package dev.seqspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.text.Partitioning;
import java.io.Serializable;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ShardTrainerTest {
    static final LanguageModelSpec SPEC = new LanguageModelSpec(CellType.GRU, 11, 0, 12, 2, true, 0.2);

    static int[] stream(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = (i % 7 == 0) ? 1 : r.nextInt(11);   // some structure to learn
        }
        return s;
    }

    static TrainConfig cfg(Partitioning p, String opt) {
        return new TrainConfig(4, 6, p, null, opt, opt.equals("adam") ? 0.01 : 0.5, 1.0, 42);
    }

    static LanguageModelTask task(TrainConfig cfg) {
        return LanguageModelTask.of(SPEC, cfg, 0);
    }

    static ModelState start(LanguageModelTask task, long seed) {
        return ShardTrainer.startingFrom(task, SPEC.initParams(seed).values);
    }

    /** Shard k: tokens [from, from + length) of {@code s}. */
    static TokenShard shard(int[] s, int from, int length, int k) {
        return new TokenShard(k, Arrays.copyOfRange(s, from, from + length), new int[0], 0);
    }

    @Test
    void kBatchesAtATimeEqualsTheWholeEpoch() {
        for (Partitioning p : Partitioning.values()) {
            LanguageModelTask task = task(cfg(p, "adam"));
            int[] s = stream(1000, 1);
            TokenShard shard = shard(s, 0, s.length, 0);
            ShardTrainer<TokenShard> a = new ShardTrainer<>(task);
            ModelState start = start(task, 7);
            int batches = task.batches(s.length, 3, 0);
            assertTrue(batches >= 9, "enough batches: " + batches);
            ShardTrainer.Result whole = a.train(start, null, shard, 3, 0, 0, null);
            assertEquals(batches, whole.batches());

            ShardTrainer<TokenShard> b = new ShardTrainer<>(task);
            ModelState state = start;
            Serializable hidden = null;
            int next = 0;
            double loss = 0;
            while (next < batches) {
                ShardTrainer.Result r = b.train(state, hidden, shard, 3, next, 4, null);
                state = r.state();
                hidden = r.carried();
                next = r.nextBatch();
                loss += r.lossSum();
            }
            assertArrayEquals(whole.state().weights(), state.weights(), p + ": weights bit for bit");
            assertArrayEquals(whole.state().optimizerState(), state.optimizerState());
            assertEquals(whole.state().optimizerSteps(), state.optimizerSteps());
            assertArrayEquals(((LanguageModel.State) whole.carried()).h, ((LanguageModel.State) hidden).h);
            assertEquals(whole.lossSum(), loss, 1e-9 * Math.abs(loss));
        }
    }

    @Test
    void sameSeedSameResultOtherSeedOtherResult() {
        LanguageModelTask task = task(cfg(Partitioning.RANDOM, "sgd"));
        TokenShard shard = shard(stream(800, 2), 0, 800, 0);
        ModelState start = start(task, 1);
        ShardTrainer<TokenShard> t = new ShardTrainer<>(task);
        float[] w1 = t.train(start, null, shard, 0, 0, 0, null).state().weights();
        float[] w2 = t.train(start, null, shard, 0, 0, 0, null).state().weights();
        assertArrayEquals(w1, w2);
        float[] w3 = t.train(start, null, shard, 1, 0, 0, null).state().weights();
        assertFalse(Arrays.equals(w1, w3), "another epoch draws another layout and dropout");
    }

    @Test
    void trainingLowersTheLoss() {
        LanguageModelTask task = task(cfg(Partitioning.SEQUENTIAL, "adam"));
        TokenShard shard = shard(stream(3000, 3), 0, 3000, 0);
        ModelState state = start(task, 1);
        ShardTrainer<TokenShard> t = new ShardTrainer<>(task);
        double first = Double.NaN;
        double last = Double.NaN;
        for (int epoch = 0; epoch < 4; epoch++) {
            ShardTrainer.Result r = t.train(state, null, shard, epoch, 0, 0, null);
            state = r.state();
            last = r.lossSum() / r.examples();
            first = epoch == 0 ? last : first;
        }
        assertTrue(last < first - 0.1, "loss " + first + " → " + last);
    }

    @Test
    void nonFiniteLossStops() {
        LanguageModelTask task = task(cfg(Partitioning.SEQUENTIAL, "sgd"));
        ModelState start = start(task, 1);
        start.weights()[5] = Float.NaN;
        ShardTrainer.Result r = new ShardTrainer<>(task).train(start, null, shard(stream(500, 4), 0, 500, 0), 0, 0, 0, null);
        assertFalse(r.finite());
        assertEquals(0, r.batches());
    }

    @Test
    void oneWorkerIsTheShardTrainerAndTwoWorkersAverageTwoShardTrainers() {
        LanguageModelTask task = task(cfg(Partitioning.SEQUENTIAL, "adam"));
        int[] s = stream(1500, 5);
        ModelState start = start(task, 9);
        ShardTrainer<TokenShard> t = new ShardTrainer<>(task);

        ModelState one = new TrainingLoop(LocalWorkers.of(task, s, new int[0], 1), 0, null).run(start, 0, 1);
        ShardTrainer.Result direct = t.train(start, null, shard(s, 0, s.length, 0), 0, 0, 0, null);
        assertArrayEquals(direct.state().weights(), one.weights(), "W = 1: bit for bit");
        assertArrayEquals(direct.state().optimizerState(), one.optimizerState());

        ModelState two = new TrainingLoop(LocalWorkers.of(task, s, new int[0], 2), 0, null).run(start, 0, 1);
        ShardTrainer.Result a = t.train(start, null, shard(s, 0, 750, 0), 0, 0, 0, null);
        ShardTrainer.Result b = t.train(start, null, shard(s, 750, 750, 1), 0, 0, 0, null);
        float[] avg = new float[a.state().weights().length];
        for (int i = 0; i < avg.length; i++) {
            avg[i] = (float) (((double) a.batches() * a.state().weights()[i] + (double) b.batches() * b.state().weights()[i])
                    / (a.batches() + b.batches()));
        }
        assertArrayEquals(avg, two.weights(), "W = 2, one round: the batch-weighted average of two shard trainers");
        assertNotEquals(Arrays.hashCode(one.weights()), Arrays.hashCode(two.weights()));
    }

    @Test
    void syncEveryKCarriesEachShardsHiddenAndOptimizerState() {
        for (String opt : new String[] {"sgd", "adam"}) {
            LanguageModelTask task = task(cfg(Partitioning.SEQUENTIAL, opt));
            int[] s = stream(1200, 6);
            ModelState start = start(task, 9);
            // One worker, averaging every 3 batches = one worker, one round (averaging one model is the identity): its
            // hidden state and its optimizer's moments go on from round to round.
            ModelState whole = new TrainingLoop(LocalWorkers.of(task, s, new int[0], 1), 0, null).run(start, 0, 2);
            ModelState byThree = new TrainingLoop(LocalWorkers.of(task, s, new int[0], 1), 3, null).run(start, 0, 2);
            assertArrayEquals(whole.weights(), byThree.weights(), opt);
            assertArrayEquals(whole.optimizerState(), byThree.optimizerState(), opt);
            assertEquals(whole.optimizerSteps(), byThree.optimizerSteps(), opt);
        }
    }

    @Test
    void badConfig() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TrainConfig(0, 35, Partitioning.SEQUENTIAL, null, "sgd", 1, 1, 0));
        assertEquals("batch_size must be positive, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TrainConfig(32, 35, Partitioning.SEQUENTIAL, null, "lbfgs", 1, 1, 0));
        assertEquals("unknown optimizer 'lbfgs'; expected sgd or adam", e.getMessage());
    }
}
