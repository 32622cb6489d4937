package dev.seqspark.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Params;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Finite differences of the mean cross-entropy of a whole language model (embedding or one-hot input,
 * dropout, variable lengths) against its backward; same tolerance rule as RecurrentGradientCheckTest.
 */
class LanguageModelGradientCheckTest {

    @ParameterizedTest(name = "{0} emb={1} layers={2} dropout={3}")
    @CsvSource({"gru, 0, 2, 0.5", "lstm, 4, 2, 0.3", "rnn_tanh, 3, 1, 0.0", "rnn_relu, 0, 1, 0.0"})
    void backwardMatchesFiniteDifferences(String cell, int emb, int layers, double dropout) {
        int vocab = 9, steps = 5, batch = 3;
        LanguageModelSpec spec = new LanguageModelSpec(CellType.fromId(cell), vocab, emb, 6, layers, true, dropout);
        Params p = spec.initParams(11);
        LanguageModel lm = new LanguageModel(spec, p);
        SplittableRandom rng = new SplittableRandom(5);
        int[] x = new int[steps * batch];
        int[] y = new int[steps * batch];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextInt(vocab);
            y[i] = rng.nextInt(vocab);
        }
        int[] lengths = {5, 3, 4};
        lm.forwardBackward(x, y, steps, batch, lengths, new LanguageModel.State(spec, batch), new SplittableRandom(1));
        float[] grads = p.grads.clone();
        java.util.function.DoubleSupplier loss = () -> {
            double sum = 0;
            LanguageModel.State s = new LanguageModel.State(spec, batch);
            float[] logits = lm.forward(x, steps, batch, lengths, s, new SplittableRandom(1));
            int count = 0;
            for (int t = 0; t < steps; t++) {
                for (int b = 0; b < batch; b++) {
                    if (t < lengths[b]) {
                        int r = t * batch + b;
                        sum += dev.seqspark.nn.SoftmaxCrossEntropy.logSumExp(logits, r * vocab, vocab)
                                - logits[r * vocab + y[r]];
                        count++;
                    }
                }
            }
            return sum / count;
        };
        SplittableRandom pick = new SplittableRandom(2);
        for (int s = 0; s < 60; s++) {
            int i = pick.nextInt(p.values.length);
            float keep = p.values[i];
            p.values[i] = keep + 1e-2f;
            double up = loss.getAsDouble();
            p.values[i] = keep - 1e-2f;
            double down = loss.getAsDouble();
            p.values[i] = keep;
            double numeric = (up - down) / 2e-2;
            assertTrue(Math.abs(numeric - grads[i]) <= 2e-3 + 1e-2 * Math.abs(grads[i]),
                    p.layout.tensors() + " index " + i + ": backward " + grads[i] + ", finite difference " + numeric);
        }
    }
}
