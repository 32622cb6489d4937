package dev.seqspark.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.Generator;
import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.testutil.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScorerTest {
    static Model<LanguageModelSpec> torchModel() {
        return ModelDir.read(Location.local(Golden.resource("torch_model")), LanguageModelSpec.class);
    }

    @Test
    void logLikelihoodAgreesWithPyTorch() {
        JsonNode g = Golden.load("/golden/torch_model_loglik.json");
        Scorer s = new Scorer(torchModel(), 64, 256, 0);
        int[] ids = s.encode(g.get("text").asText());
        assertArrayEquals(Golden.ints(g.get("ids")), ids, "one token per code point; § is <unk>");
        Scorer.Score score = s.score(List.of(ids)).get(0);
        double expected = g.get("log_likelihood").asDouble();
        assertEquals(g.get("tokens").asLong(), score.tokens());
        assertEquals(expected, score.logLikelihood(), 1e-4 * Math.abs(expected), "within 1e-4 relative of PyTorch");
        assertEquals(g.get("perplexity").asDouble(), score.perplexity(), 1e-4 * g.get("perplexity").asDouble());
    }

    static List<int[]> records(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = i % 5 == 0 ? r.nextInt(3) : r.nextInt(1, 300);   // some empty and one-token records
            int[] ids = new int[len];
            for (int t = 0; t < len; t++) {
                ids[t] = r.nextInt(70);
            }
            out.add(ids);
        }
        return out;
    }

    @Test
    void aRecordScoresTheSameAloneOrInAnyBatch() {
        Model<LanguageModelSpec> m = torchModel();
        List<int[]> recs = records(37, 1);
        List<Scorer.Score> together = new Scorer(m, 8, 50, 3).score(recs);
        List<Scorer.Score> wide = new Scorer(m, 64, 1000, 3).score(recs);
        Scorer alone = new Scorer(m, 1, 1000, 3);
        for (int i = 0; i < recs.size(); i++) {
            Scorer.Score a = alone.score(List.of(recs.get(i))).get(0);
            for (Scorer.Score b : List.of(together.get(i), wide.get(i))) {
                assertEquals(a.tokens(), b.tokens());
                assertEquals(a.logLikelihood(), b.logLikelihood(), 1e-6 * Math.abs(a.logLikelihood()) + 1e-9, "record " + i);
                assertArrayEquals(a.topIds(), b.topIds(), "record " + i);
            }
            assertEquals(Math.max(0, recs.get(i).length - 1), a.tokens());
        }
    }

    @Test
    void aLongRecordInChunksScoresAsWhole() {
        Model<LanguageModelSpec> m = torchModel();
        int[] big = records(1, 9).get(0);
        big = new int[20_000];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < big.length; i++) {
            big[i] = r.nextInt(70);
        }
        double whole = new Scorer(m, 4, 20_000, 0).score(List.of(big)).get(0).logLikelihood();
        double chunked = new Scorer(m, 4, 64, 0).score(List.of(big, new int[] {1, 2, 3})).get(0).logLikelihood();
        assertEquals(whole, chunked, 1e-6 * Math.abs(whole));
    }

    @Test
    void emptyAndOneTokenRecordsAndTopK() {
        Model<LanguageModelSpec> m = torchModel();
        Scorer s = new Scorer(m, 16, 32, 3);
        List<Scorer.Score> out = s.score(List.of(new int[0], new int[] {5}, s.encode("Tom was")));
        assertEquals(0, out.get(0).tokens());
        assertEquals(0.0, out.get(0).logLikelihood());
        assertTrue(Double.isNaN(out.get(0).perplexity()));
        assertEquals(0, out.get(0).topIds().length, "no context, no prediction");
        assertEquals(0, out.get(1).tokens());
        assertEquals(3, out.get(1).topIds().length);
        float[] p = out.get(2).topProbs();
        assertTrue(p[0] >= p[1] && p[1] >= p[2] && p[0] + p[1] + p[2] <= 1.0001f);
        // top-1 after the record is the greedy next token
        LanguageModel lm = new LanguageModel(m.spec(), m.params());
        int[] ids = s.encode("Tom was");
        int[] gen = Generator.generate(lm, ids, 1, Generator.Sampling.greedy());
        assertEquals(gen[ids.length], out.get(2).topIds()[0]);
    }

    @Test
    void aTinyMemoryBudgetScoresTheSame() {
        Model<LanguageModelSpec> m = torchModel();
        List<int[]> recs = records(23, 4);
        List<Scorer.Score> roomy = new Scorer(m, 16, 256, 2).score(recs);
        // 2 KB: one step per chunk and a handful of logit rows at a time.
        List<Scorer.Score> tight = new Scorer(m, 16, 256, 2, 2048).score(recs);
        for (int i = 0; i < recs.size(); i++) {
            assertEquals(roomy.get(i).logLikelihood(), tight.get(i).logLikelihood(),
                    1e-6 * Math.abs(roomy.get(i).logLikelihood()) + 1e-9, "record " + i);
            assertArrayEquals(roomy.get(i).topIds(), tight.get(i).topIds());
        }
    }

    /** rows × V passed 2^31 at V ≥ 65,536 with 128 rows of 256 steps; the budget keeps the logits block small. */
    @Test
    void aVocabularyPast65536TokensScoresInBoundedMemory() {
        int vocab = 70_000;
        dev.seqspark.model.LanguageModelSpec spec = new dev.seqspark.model.LanguageModelSpec(dev.seqspark.nn.CellType.GRU, vocab, 0, 8, 1,
                true, 0.0);
        List<String> tokens = new ArrayList<>(List.of("<unk>"));
        for (int i = 1; i < vocab; i++) {
            tokens.add("w" + i);
        }
        Model<LanguageModelSpec> m = new Model<>(new dev.seqspark.io.ModelConfig(spec, new dev.seqspark.text.TokenizerConfig(
                dev.seqspark.text.TokenizerConfig.Level.WORD, false, false)), new dev.seqspark.text.Vocab(tokens),
                spec.initParams(9).values);
        SplittableRandom r = new SplittableRandom(5);
        List<int[]> recs = new ArrayList<>();
        for (int i = 0; i < 130; i++) {
            int[] ids = new int[i == 0 ? 600 : r.nextInt(1, 40)];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = r.nextInt(vocab);
            }
            recs.add(ids);
        }
        List<Scorer.Score> batched = new Scorer(m, 128, 256, 1).score(recs);
        Scorer alone = new Scorer(m, 1, 256, 1);
        for (int i = 0; i < recs.size(); i += 16) {
            Scorer.Score a = alone.score(List.of(recs.get(i))).get(0);
            assertEquals(a.logLikelihood(), batched.get(i).logLikelihood(), 1e-5 * Math.abs(a.logLikelihood()), "record " + i);
            assertArrayEquals(a.topIds(), batched.get(i).topIds());
        }
        assertEquals(599, batched.get(0).tokens());
    }
}
