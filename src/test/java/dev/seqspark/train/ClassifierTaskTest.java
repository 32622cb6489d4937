package dev.seqspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.nn.Pooling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The classifier's batch plan (every record once per epoch, batches of similar lengths, a different order every
 * epoch, the same for the same (seed, epoch, shard)), its metrics against hand counts, resuming mid-epoch, and
 * what the training loop does with one worker versus two.
 */
class ClassifierTaskTest {
    static LabeledRecords records(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] t = new int[n][];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = new int[1 + r.nextInt(20)];
            for (int k = 0; k < t[i].length; k++) {
                t[i][k] = r.nextInt(9);
            }
            y[i] = t[i][0] % 2;
        }
        return new LabeledRecords(t, y);
    }

    static final ClassifierTrainConfig CFG = new ClassifierTrainConfig(7, "adam", 0.01, 1.0, 5, null);

    @Test
    void thePlanCoversEveryRecordOnceInBatchesOfSimilarLength() {
        LabeledRecords d = records(100, 1);
        int[][] p = ClassifierTask.plan(CFG, d, 0, 3);
        assertEquals(new ClassifierTask(new ClassifierSpec(9, 0, ClassifierSpec.parseBlocks("gru:2"), Pooling.LAST, 2), CFG)
                .batches(100, 0, 3), p.length);
        assertEquals(15, p.length);
        List<Integer> seen = new ArrayList<>();
        int spread = 0;
        for (int[] b : p) {
            int lo = Integer.MAX_VALUE;
            int hi = 0;
            for (int i : b) {
                seen.add(i);
                lo = Math.min(lo, d.tokens()[i].length);
                hi = Math.max(hi, d.tokens()[i].length);
            }
            spread += hi - lo;
        }
        seen.sort(null);
        for (int i = 0; i < 100; i++) {
            assertEquals(i, seen.get(i));
        }
        assertTrue(spread <= 20 + p.length, "sorted by length: little padding (spread " + spread + ")");
        assertTrue(Arrays.deepEquals(p, ClassifierTask.plan(CFG, d, 0, 3)), "the same (seed, epoch, shard): the same plan");
        assertFalse(Arrays.deepEquals(p, ClassifierTask.plan(CFG, d, 1, 3)), "another epoch: another order");
        assertFalse(Arrays.deepEquals(p, ClassifierTask.plan(CFG, d, 0, 4)), "another shard: another order");
    }

    @Test
    void metricsAreTheHandCounts() {
        ClassMetrics m = new ClassMetrics(3);
        int[][] pairs = {{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 2}, {2, 2}, {2, 2}, {2, 0}};
        for (int[] p : pairs) {
            m.add(p[0], p[1], 0.5);
        }
        assertEquals(5.0 / 8, m.accuracy(), 1e-12);
        double f0 = 2.0 * 2 / (2 * 2 + 1 + 1);
        double f1 = 2.0 * 1 / (2 * 1 + 1 + 1);
        double f2 = 2.0 * 2 / (2 * 2 + 1 + 1);
        assertEquals((f0 + f1 + f2) / 3, m.macroF1(), 1e-12);
        assertEquals(0.5, m.meanLoss(), 1e-12);
        assertArrayEquals(new long[] {2, 1, 0}, m.confusion()[0]);
        ClassMetrics counts = ClassMetrics.fromCounts(new long[] {2, 1, 2}, new long[] {3, 2, 3}, new long[] {3, 2, 3}, null);
        assertEquals(m.macroF1(), counts.macroF1(), 1e-12);
        assertEquals(m.accuracy(), counts.accuracy(), 1e-12);
        assertTrue(m.confusionTable(List.of("a", "b", "c")).contains("true\\pred"));
    }

    @Test
    void trainingInPiecesIsTrainingAtOnce() {
        LabeledRecords d = records(60, 2);
        ClassifierSpec spec = new ClassifierSpec(9, 4, ClassifierSpec.parseBlocks("lstm:5,gru:4:bi"), Pooling.MAX, 2);
        ClassifierTask task = new ClassifierTask(spec, CFG);
        ShardTrainer<RecordShard> t = new ShardTrainer<>(task);
        ModelState start = ShardTrainer.startingFrom(task, spec.initParams(1).values);
        RecordShard shard = new RecordShard(0, d, records(10, 3), 0, 0);
        ShardTrainer.Result whole = t.train(start, null, shard, 0, 0, 0, null);
        ShardTrainer.Result a = t.train(start, null, shard, 0, 0, 4, null);
        ShardTrainer.Result b = t.train(a.state(), null, shard, 0, a.nextBatch(), 0, null);
        assertArrayEquals(whole.state().weights(), b.state().weights());
        assertEquals(whole.examples(), a.examples() + b.examples());
        assertEquals(60, whole.examples(), "records trained");
        assertEquals(d.tokenCount(), whole.tokens(), "their tokens");
        assertTrue(whole.finite());
        // One worker through the loop is the trainer.
        LocalWorkers<RecordShard> one = LocalWorkers.of(task, List.of(shard));
        ModelState viaLoop = new TrainingLoop(one, 0, null).run(start, 0, 1);
        assertArrayEquals(whole.state().weights(), viaLoop.weights());
        assertEquals(10, one.validate(viaLoop.weights()).count());
    }
}
