package dev.seqspark.train;

import static dev.seqspark.testutil.Golden.assertClose;
import static dev.seqspark.testutil.Golden.data;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.model.Classifier;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.nn.Params;
import dev.seqspark.nn.Pooling;
import dev.seqspark.testutil.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The sequence classifier against PyTorch (tools/golden/make_classify_golden.py): the reference LSTM→GRU
 * (1 and 2 layers each), a bidirectional embedding variant (bi-GRU → 2-layer bi-LSTM), RNN tanh/relu blocks and a
 * single bi-LSTM, each with last / mean / max pooling, class weights, on a packed batch of unsorted lengths
 * [5, 2, 4, 1, 3]: logits, loss and the gradient of every parameter within 1e-5 relative or 1e-6 absolute.
 */
class ClassifierGoldenTest {
    static final JsonNode GOLDEN = Golden.load("/golden/classify_golden.json.gz");

    @TestFactory
    Stream<DynamicTest> agreesWithPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : GOLDEN.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertEquals(12, tests.size());
        return tests.stream();
    }

    static ClassifierSpec spec(JsonNode c) {
        List<RecurrentBlock> blocks = new ArrayList<>();
        for (JsonNode b : c.get("blocks")) {
            blocks.add(new RecurrentBlock(b.get("name").asText(), CellType.fromId(b.get("cell").asText()),
                    b.get("hidden_size").asInt(), b.get("num_layers").asInt(), b.get("bidirectional").asBoolean(), 0.0, true));
        }
        return new ClassifierSpec(c.get("vocab_size").asInt(), c.get("embedding_dim").asInt(), blocks,
                Pooling.fromId(c.get("pooling").asText()), c.get("num_classes").asInt());
    }

    static Params params(ClassifierSpec spec, JsonNode tensors) {
        Params p = new Params(spec.layout());
        assertEquals(p.layout.tensors().size(), tensors.size(), "tensor count");
        for (ParamLayout.TensorView t : p.layout.tensors()) {
            p.set(t.name(), data(tensors.get(t.name())));
        }
        return p;
    }

    static float[] weights(JsonNode w) {
        return w == null || w.isNull() ? null : data(w);
    }

    private static void check(JsonNode c) {
        String name = c.get("name").asText();
        ClassifierSpec spec = spec(c);
        Params p = params(spec, c.get("params"));
        JsonNode rows = c.get("tokens");
        int batch = rows.size();
        int steps = rows.get(0).size();
        int[] tokens = LanguageModelGoldenTest.timeMajor(rows);
        int[] lengths = Golden.ints(c.get("lengths"));
        int[] targets = Golden.ints(c.get("targets"));
        Classifier model = new Classifier(spec, p);
        double loss = model.forwardBackward(tokens, steps, batch, lengths, targets, weights(c.get("class_weights")), null);
        assertClose(name + " loss", new float[] {(float) c.get("loss").asDouble()}, new float[] {(float) loss});
        for (ParamLayout.TensorView t : p.layout.tensors()) {
            assertClose(name + " grad " + t.name(), data(c.get("grad").get(t.name())), p.grad(t.name()));
        }
        float[] logits = model.forward(tokens, steps, batch, lengths, null);
        assertClose(name + " logits", data(c.get("logits")), logits);
        // Frozen weights (prediction's path) give the same logits.
        Classifier frozen = new Classifier(spec, params(spec, c.get("params"))).freezeWeights();
        assertClose(name + " logits, frozen", data(c.get("logits")), frozen.forward(tokens, steps, batch, lengths, null));
    }
}
