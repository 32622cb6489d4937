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
}
