package dev.seqspark.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.testutil.Golden;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Vocabulary, cleaning and both batch layouts against d2l's own code (tools/golden/make_lm_golden.py). */
class TextGoldenTest {
    private static final JsonNode GOLDEN = Golden.load("/golden/text_golden.json");

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }

    @TestFactory
    Stream<DynamicTest> vocab() {
        return stream(GOLDEN.get("vocab")).map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
            Vocab v = Vocab.build(Vocab.count(strings(c.get("tokens"))), c.get("min_freq").asInt(), strings(c.get("reserved")));
            assertEquals(strings(c.get("idx_to_token")), v.tokens());
        }));
    }

    @TestFactory
    Stream<DynamicTest> lettersOnly() {
        Tokenizer t = new Tokenizer(new TokenizerConfig(TokenizerConfig.Level.CHAR, true, true));
        return stream(GOLDEN.get("letters_only")).map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new StringReader(c.get("text").asText()))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(strings(c.get("lines")), lines.stream().map(t::normalize).toList());
            assertEquals(c.get("joined").asText(), String.join("", t.streamTokens(lines)));
        }));
    }

    @TestFactory
    Stream<DynamicTest> sequential() {
        return stream(GOLDEN.get("sequential")).map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
            int[] corpus = Golden.ints(c.get("corpus"));
            BatchLayout l = BatchLayout.sequential(corpus, 0, corpus.length, c.get("batch_size").asInt(),
                    c.get("num_steps").asInt(), c.get("offset").asInt());
            check(c, l);
        }));
    }

    @TestFactory
    Stream<DynamicTest> random() {
        return stream(GOLDEN.get("random")).map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
            int[] corpus = Golden.ints(c.get("corpus"));
            int offset = c.get("offset").asInt();
            int[] starts = Golden.ints(c.get("initial_indices"));   // relative to corpus[offset:], as d2l slices
            for (int i = 0; i < starts.length; i++) {
                starts[i] += offset;
            }
            BatchLayout l = BatchLayout.random(corpus, 0, corpus.length, c.get("batch_size").asInt(),
                    c.get("num_steps").asInt(), offset, starts);
            check(c, l);
        }));
    }

    /** Every batch's X and Y (d2l: (batch, steps) rows) against ours (time-major). */
    private static void check(JsonNode c, BatchLayout l) {
        JsonNode batches = c.get("batches");
        assertEquals(batches.size(), l.numBatches(), "number of batches");
        int b = l.batchSize();
        int t = l.numSteps();
        int[] x = new int[b * t];
        int[] y = new int[b * t];
        for (int i = 0; i < l.numBatches(); i++) {
            l.fill(i, x, y);
            for (int r = 0; r < b; r++) {
                for (int s = 0; s < t; s++) {
                    assertEquals(batches.get(i).get("X").get(r).get(s).asInt(), x[s * b + r], "X batch " + i);
                    assertEquals(batches.get(i).get("Y").get(r).get(s).asInt(), y[s * b + r], "Y batch " + i);
                }
            }
        }
    }

    private static Stream<JsonNode> stream(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out.stream();
    }
}
