package dev.seqspark.score;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.model.Classifier;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.nn.Pooling;
import dev.seqspark.testutil.Golden;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Batched, chunked prediction gives each record the logits of the classifier run on that record alone, whole:
 * for unidirectional and bidirectional stacks, every pooling, groups of any size, chunks of a few steps with the
 * states carried (records leaving the group as they end), and a working-memory budget small enough to shrink
 * chunks to one step. Within 1e-5 relative or 1e-6 absolute.
 */
class ClassifierPredictorTest {
    static final List<String> TOKENS = List.of("<unk>", "a", "b", "c", "d", "e", "f", "g");

    static Model<ClassifierSpec> model(String blocks, int emb, Pooling pooling, int maxLength) {
        ClassifierSpec spec = new ClassifierSpec(TOKENS.size(), emb, ClassifierSpec.parseBlocks(blocks), pooling, 3);
        return new Model<>(new ModelConfig<>(spec, TokenizerConfig.chars(), maxLength), new Vocab(TOKENS),
                List.of("x", "y", "z"), spec.initParams(13).values);
    }

    static List<int[]> records(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = i % 7 == 3 ? 0 : r.nextInt(1, 60);
            int[] ids = new int[len];
            for (int t = 0; t < len; t++) {
                ids[t] = r.nextInt(TOKENS.size());
            }
            out.add(ids);
        }
        return out;
    }

    static float[] alone(Model<ClassifierSpec> m, int[] ids) {
        return new Classifier(m.spec(), m.params()).forward(ids, ids.length, 1, new int[] {ids.length}, null).clone();
    }

    @Test
    void batchedAndChunkedIsEachRecordAlone() {
        for (String blocks : List.of("lstm:6,gru:5:layers=2", "gru:4:bi,lstm:3:bi:layers=2", "rnn_tanh:5")) {
            for (Pooling pooling : Pooling.values()) {
                Model<ClassifierSpec> m = model(blocks, blocks.startsWith("rnn") ? 0 : 3, pooling, 0);
                List<int[]> recs = records(30, blocks.length() + pooling.ordinal());
                for (ClassifierPredictor p : List.of(new ClassifierPredictor(m, 8, 5), new ClassifierPredictor(m, 64, 1000),
                        new ClassifierPredictor(m, 3, 256, 20_000))) {
                    float[][] got = p.predict(recs);
                    for (int i = 0; i < recs.size(); i++) {
                        String what = blocks + " " + pooling.id + " record " + i;
                        if (recs.get(i).length == 0) {
                            assertNull(got[i], what + ": no token, no prediction");
                        } else {
                            Golden.assertClose(what, alone(m, recs.get(i)), got[i]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void textIsCutToTheModelsMaxLength() {
        Model<ClassifierSpec> m = model("gru:4", 0, Pooling.MEAN, 5);
        ClassifierPredictor p = new ClassifierPredictor(m, 4, 2);
        assertTrue(java.util.Arrays.equals(new int[] {1, 2, 3, 0, 4}, p.encode("abc?dXYZ")), "5 tokens, unknown ones <unk>");
        Golden.assertClose("cut", p.predict(List.of(p.encode("abcde")))[0], p.predict(List.of(p.encode("abcdefgabc")))[0]);
    }

    @Test
    void aBidirectionalModelRefusesARecordFarBeyondItsBudget() {
        Model<ClassifierSpec> m = model("gru:4:bi", 0, Pooling.LAST, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ClassifierPredictor(m, 4, 16, 4096).predict(List.of(new int[20_000])));
        assertTrue(e.getMessage().contains("too long for this bidirectional model"), e.getMessage());
    }
}
