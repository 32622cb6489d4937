package dev.seqspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.seqspark.model.LanguageModel;
import dev.seqspark.text.Partitioning;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The outer update: BMUF by hand for three workers, and the cases where it must be plain averaging, bit for bit. */
class OuterUpdateTest {

    static ShardTrainer.Result worker(float[] weights, int batches) {
        return new ShardTrainer.Result(new ModelState(weights, new float[0], batches),
                new LanguageModel.State(new float[1], null), 0, batches, batches, batches, batches, true);
    }

    static RoundSum round(ShardTrainer.Result... rs) {
        RoundSum s = new RoundSum(rs.length);
        for (int k = 0; k < rs.length; k++) {
            s.add(k, rs[k], 0);
        }
        return s;
    }

    @Test
    void bmufForThreeWorkersByHand() {
        // θ = [1, 2], Δ = [0.2, −0.4], η = 0.5: the workers start from s = θ − ηΔ = [0.9, 2.2].
        ModelState global = new ModelState(new float[] {1f, 2f}, new float[0], 0, new float[] {0.2f, -0.4f});
        OuterUpdate bmuf = OuterUpdate.bmuf(0.5, 1.0);
        assertArrayEquals(new float[] {0.9f, 2.2f}, bmuf.start(global).weights(), 1e-7f);
        assertEquals(0, bmuf.start(global).blockMomentum().length, "workers never receive Δ");
        // Workers return [0.5, 2.0] (1 batch), [0.7, 2.4] (1 batch), [0.6, 1.8] (2 batches): mean [0.6, 2.0].
        RoundSum sum = round(worker(new float[] {0.5f, 2.0f}, 1), worker(new float[] {0.7f, 2.4f}, 1),
                worker(new float[] {0.6f, 1.8f}, 2));
        // G = s − mean = [0.3, 0.2]; Δ' = 0.5·Δ + G = [0.4, 0.0]; θ' = θ − Δ' = [0.6, 2.0]; next start θ' − 0.5·Δ'.
        ModelState next = bmuf.update(global, sum);
        assertArrayEquals(new float[] {0.4f, 0.0f}, next.blockMomentum(), 1e-6f);
        assertArrayEquals(new float[] {0.6f, 2.0f}, next.weights(), 1e-6f);
        assertArrayEquals(new float[] {0.4f, 2.0f}, bmuf.start(next).weights(), 1e-6f);
        // A block learning rate ζ = 2: Δ' = 0.5·Δ + 2·G = [0.7, 0.2], θ' = [0.3, 1.8].
        ModelState zeta2 = OuterUpdate.bmuf(0.5, 2.0).update(global, sum);
        assertArrayEquals(new float[] {0.7f, 0.2f}, zeta2.blockMomentum(), 1e-6f);
        assertArrayEquals(new float[] {0.3f, 1.8f}, zeta2.weights(), 1e-6f);
    }

    @Test
    void defaultMomentumIsOneMinusOneOverW() {
        assertEquals(0.0, OuterUpdate.defaultMomentum(1));
        assertEquals(0.5, OuterUpdate.defaultMomentum(2));
        assertEquals(0.875, OuterUpdate.defaultMomentum(8));
    }

    static final ModelSpecHolder H = new ModelSpecHolder();

    static final class ModelSpecHolder {
        final TrainConfig cfg = new TrainConfig(4, 6, Partitioning.SEQUENTIAL, 0, "sgd", 0.5, 1.0, 3);
        final int[] train = ShardTrainerTest.stream(3000, 2);
        final int[] valid = ShardTrainerTest.stream(300, 5);
    }

    /** Every epoch's weights, with the given outer update, W workers and a sync interval. */
    static List<float[]> run(OuterUpdate outer, int workers, int syncEvery) {
        List<float[]> epochs = new ArrayList<>();
        LanguageModelTask task = LanguageModelTask.of(ShardTrainerTest.SPEC, H.cfg, H.valid.length);
        try (LocalWorkers<TokenShard> w = LocalWorkers.of(task, H.train, H.valid, workers)) {
            new TrainingLoop(w, syncEvery, outer, new TrainingLoop.Listener() {
                @Override
                public void epochEnd(TrainingLoop.EpochMetrics m, ModelState state) {
                    epochs.add(state.weights().clone());
                }
            }).run(ShardTrainerTest.start(task, 9), 0, 2);
        }
        return epochs;
    }

    @Test
    void zeroMomentumAndOneWorkerArePlainAveragingBitForBit() {
        List<float[]> avg = run(OuterUpdate.average(), 3, 5);
        List<float[]> eta0 = run(OuterUpdate.bmuf(0, 1), 3, 5);
        for (int e = 0; e < avg.size(); e++) {
            assertArrayEquals(avg.get(e), eta0.get(e), "η = 0, epoch " + (e + 1));
        }
        List<float[]> one = run(OuterUpdate.average(), 1, 0);
        List<float[]> oneBmuf = run(OuterUpdate.bmuf(OuterUpdate.defaultMomentum(1), 1), 1, 0);
        for (int e = 0; e < one.size(); e++) {
            assertArrayEquals(one.get(e), oneBmuf.get(e), "W = 1, epoch " + (e + 1));
        }
        List<float[]> bmuf = run(OuterUpdate.bmuf(OuterUpdate.defaultMomentum(3), 1), 3, 5);
        assertFalse(java.util.Arrays.equals(avg.get(1), bmuf.get(1)), "with momentum it is another rule");
    }
}
