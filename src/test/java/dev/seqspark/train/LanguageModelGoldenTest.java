package dev.seqspark.train;

import static dev.seqspark.testutil.Golden.assertClose;
import static dev.seqspark.testutil.Golden.data;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.nn.Params;
import dev.seqspark.testutil.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * d2l's RNNModel in PyTorch (one-hot or embedding → RNN/GRU/LSTM, 1–2 layers → linear → mean
 * cross-entropy over valid positions, equal and variable lengths): logits, loss, h_n/c_n and the gradient
 * of every parameter, within 1e-5 relative or 1e-6 absolute.
 */
class LanguageModelGoldenTest {

    @TestFactory
    Stream<DynamicTest> agreesWithPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Golden.nn().get("models")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertEquals(24, tests.size());
        return tests.stream();
    }

    /** (batch, seq) nested lists as d2l's X → time-major ids (t·B + b). */
    static int[] timeMajor(JsonNode rows) {
        int batch = rows.size();
        int steps = rows.get(0).size();
        int[] out = new int[steps * batch];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                out[t * batch + b] = rows.get(b).get(t).asInt();
            }
        }
        return out;
    }

    private static void check(JsonNode c) {
        String name = c.get("name").asText();
        LanguageModelSpec spec = new LanguageModelSpec(CellType.fromId(c.get("cell").asText()), c.get("vocab_size").asInt(),
                c.get("embedding_dim").asInt(), c.get("hidden_size").asInt(), c.get("num_layers").asInt(), true, 0.0);
        Params p = new Params(spec.layout());
        assertEquals(p.layout.tensors().size(), c.get("params").size(), "tensor count");
        for (ParamLayout.TensorView t : p.layout.tensors()) {
            p.set(t.name(), data(c.get("params").get(t.name())));
        }
        int steps = c.get("seq_len").asInt();
        int batch = c.get("batch").asInt();
        int[] lengths = Golden.ints(c.get("lengths"));
        LanguageModel lm = new LanguageModel(spec, p);
        LanguageModel.State state = new LanguageModel.State(data(c.get("h0")), data(c.get("c0")));
        double loss = lm.forwardBackward(timeMajor(c.get("tokens")), timeMajor(c.get("targets")), steps, batch,
                lengths, state, null);
        assertClose(name + " loss", new float[] {(float) c.get("loss").asDouble()}, new float[] {(float) loss});
        assertClose(name + " h_n", data(c.get("h_n")), state.h);
        if (state.c != null) {
            assertClose(name + " c_n", data(c.get("c_n")), state.c);
        }
        for (ParamLayout.TensorView t : p.layout.tensors()) {
            assertClose(name + " grad " + t.name(), data(c.get("grad").get(t.name())), p.grad(t.name()));
        }
        // Logits again, forward only, from the same initial state.
        LanguageModel.State again = new LanguageModel.State(data(c.get("h0")), data(c.get("c0")));
        float[] logits = lm.forward(timeMajor(c.get("tokens")), steps, batch, lengths, again, null);
        assertClose(name + " logits", data(c.get("logits")), logits);
    }
}
