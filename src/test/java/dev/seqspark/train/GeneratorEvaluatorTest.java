package dev.seqspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.seqspark.model.Generator;
import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Params;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GeneratorEvaluatorTest {
    static final LanguageModelSpec SPEC = new LanguageModelSpec(CellType.LSTM, 9, 0, 8, 1, true, 0);

    @Test
    void greedyKeepsThePrefixAndMatchesStepByStepArgmax() {
        Params p = SPEC.initParams(4);
        LanguageModel lm = new LanguageModel(SPEC, p);
        int[] prefix = {3, 1, 4};
        int[] out = Generator.generate(lm, prefix, 6, Generator.Sampling.greedy());
        assertArrayEquals(prefix, Arrays.copyOf(out, 3));
        // d2l's predict_ch8: one token at a time from the start.
        LanguageModel.State s = new LanguageModel.State(SPEC, 1);
        int last = prefix[0];
        int[] expect = new int[9];
        expect[0] = last;
        for (int i = 1; i < 9; i++) {
            float[] logits = lm.forward(new int[] {last}, 1, 1, null, s, null);
            int next = i < 3 ? prefix[i] : argmax(logits);
            expect[i] = next;
            last = next;
        }
        assertArrayEquals(expect, out);
        assertArrayEquals(out, Generator.generate(lm, prefix, 6, new Generator.Sampling(0.7, 1, 5)), "top-1 = greedy");
    }

    private static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < 9; i++) {
            b = v[i] > v[b] ? i : b;
        }
        return b;
    }

    @Test
    void samplingIsSeeded() {
        LanguageModel lm = new LanguageModel(SPEC, SPEC.initParams(4));
        int[] a = Generator.generate(lm, new int[] {2}, 30, new Generator.Sampling(1.0, 0, 11));
        int[] b = Generator.generate(lm, new int[] {2}, 30, new Generator.Sampling(1.0, 0, 11));
        int[] c = Generator.generate(lm, new int[] {2}, 30, new Generator.Sampling(1.0, 0, 12));
        assertArrayEquals(a, b);
        assertEquals(false, Arrays.equals(a, c));
        assertThrows(IllegalArgumentException.class, () -> Generator.generate(lm, new int[0], 3, Generator.Sampling.greedy()));
    }

    @Test
    void aModelThatPredictsNothingHasPerplexityVocabSize() {
        float[] zeros = new float[SPEC.layout().size()];   // logits all 0: uniform over 9 tokens
        int[] stream = new int[500];
        Arrays.setAll(stream, i -> i % 9);
        Evaluator.Loss l = Evaluator.evaluate(SPEC, zeros, stream, 0, stream.length, 32, 35);
        assertEquals(9.0, l.perplexity(), 1e-5);
        Evaluator.Loss tiny = Evaluator.evaluate(SPEC, zeros, stream, 0, 5, 32, 35);
        assertEquals(4, tiny.count(), "a stream shorter than one batch still counts");
    }

    @Test
    void shardsValidatedTogetherAreOneMachinesValidation() {
        float[] w = SPEC.initParams(7).values;
        int[] valid = new int[1_000];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        Arrays.setAll(valid, i -> r.nextInt(9));
        TrainConfig cfg = new TrainConfig(8, 6, dev.seqspark.text.Partitioning.SEQUENTIAL, 0, "sgd", 0.5, 1.0, 0);
        LanguageModelTask task = LanguageModelTask.of(SPEC, cfg, valid.length);
        Evaluator.Loss whole = Evaluator.evaluate(SPEC, w, valid, 0, valid.length, 8, 6);
        java.util.List<TokenShard> shards = TokenShard.split(new int[0], valid, 5, task.validDims());
        // shards {0, 2, 4} as one task holds them, {1, 3} as another: their rows in one batch each
        Validation together = task.validate(w, java.util.List.of(shards.get(0), shards.get(2), shards.get(4)))
                .plus(task.validate(w, java.util.List.of(shards.get(1), shards.get(3))));
        Validation apart = task.noValidation();
        for (TokenShard s : shards) {
            apart = apart.plus(task.validate(w, java.util.List.of(s)));
        }
        assertEquals(8 * 6 * (124 / 6), whole.count());
        assertEquals(whole.count(), together.count());
        assertEquals(whole.count(), apart.count());
        // a row's loss does not depend on the rows beside it, but a BLAS kernel may round a row in the last bit by its
        // place in the batch (see SparkTrainingTest): 1e-7 of the sum, where one token more or less moves it by 1e-3
        assertEquals(whole.lossSum(), together.lossSum(), 1e-7 * whole.lossSum());
        assertEquals(whole.lossSum(), apart.lossSum(), 1e-7 * whole.lossSum());
    }
}
