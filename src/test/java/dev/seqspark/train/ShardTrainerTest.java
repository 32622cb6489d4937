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

    /**
     * Overlapped rounds, written out by hand for two shards and BMUF (η = 0.5, ζ = 1). Round r + 2 starts once round r
     * is combined, from the state (θ, Δ) that round made: every shard from BMUF's start b = θ − η·Δ plus its own move
     * in round r + 1 (which the driver has not combined yet); rounds 0 and 1 start from the epoch's start. The driver
     * combines each round's mean move from its base, m, by BMUF: Δ ← η·Δ − m, θ ← θ − Δ. SGD keeps no optimizer
     * state between rounds, so each shard's round is ShardTrainer.train from the start written here, with its
     * carried hidden state.
     */
    @Test
    void overlappedRoundsApplyEachRoundsMeanMoveOneRoundLate() {
        double eta = 0.5;
        LanguageModelTask task = task(new TrainConfig(4, 6, Partitioning.SEQUENTIAL, 0, "sgd", 0.5, 1.0, 42));
        int[] s = stream(1200, 3);
        java.util.List<TokenShard> shards = java.util.List.of(shard(s, 0, 600, 0), shard(s, 600, 600, 1));
        ModelState theta0 = start(task, 9);
        int k = 8;
        assertEquals(3 * k, task.batches(600, 0, 0), "three rounds of eight batches");
        LocalWorkers<TokenShard> workers = new LocalWorkers<>(task, shards, new long[] {600, 600});
        OuterUpdate bmuf = OuterUpdate.bmuf(eta, 1.0);
        float[] viaLoop = new TrainingLoop(workers, e -> k, bmuf, true, null).run(theta0, 0, 1).weights();

        int n = theta0.weights().length;
        ShardTrainer<TokenShard> t = new ShardTrainer<>(task);
        float[][] moved = new float[2][];
        Serializable[] carried = new Serializable[2];
        double[][] theta = new double[4][n];   // θ_r: after round r − 1; Δ_r likewise (Δ_0 = 0)
        double[][] delta = new double[4][n];
        for (int i = 0; i < n; i++) {
            theta[0][i] = theta0.weights()[i];
        }
        for (int r = 0; r < 3; r++) {
            int known = Math.max(0, r - 1);   // round r starts knowing the state after round r − 2
            double[] base = new double[n];
            double[] meanMove = new double[n];
            for (int i = 0; i < n; i++) {
                base[i] = r == 0 ? theta[0][i] : theta[known][i] - eta * delta[known][i];
            }
            for (int w = 0; w < 2; w++) {
                float[] from = new float[n];
                for (int i = 0; i < n; i++) {
                    from[i] = (float) (r == 0 ? base[i] : (float) base[i] + moved[w][i]);
                }
                ShardTrainer.Result res = t.train(new ModelState(from, theta0.optimizerState(), 0), carried[w],
                        shards.get(w), 0, r * k, k, null);
                carried[w] = res.carried();
                moved[w] = new float[n];
                for (int i = 0; i < n; i++) {
                    moved[w][i] = res.state().weights()[i] - from[i];
                    meanMove[i] += moved[w][i] / 2.0;
                }
            }
            for (int i = 0; i < n; i++) {
                delta[r + 1][i] = eta * delta[r][i] - meanMove[i];
                theta[r + 1][i] = theta[r][i] - delta[r + 1][i];
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(theta[3][i], viaLoop[i], 1e-5 * Math.max(1, Math.abs(theta[3][i])), "weight " + i);
        }
        float[] inTurn = new TrainingLoop(workers, k, bmuf, null).run(theta0, 0, 1).weights();
        assertFalse(Arrays.equals(inTurn, viaLoop), "overlapping changes the maths");
    }
}
