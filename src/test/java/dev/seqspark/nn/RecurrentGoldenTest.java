package dev.seqspark.nn;

import static dev.seqspark.testutil.Golden.assertClose;
import static dev.seqspark.testutil.Golden.data;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.testutil.Golden;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every recurrent case PyTorch made (cell × layers × directions × bias × batch_first × h0 × lengths):
 * output, h_n, c_n and the gradients of every parameter, of the input and of h0/c0 for the loss
 * Σ output·d_output + Σ h_n·d_h_n (+ Σ c_n·d_c_n), each number within 1e-5 relative or 1e-6 absolute.
 */
class RecurrentGoldenTest {

    @TestFactory
    Stream<DynamicTest> agreesWithPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Golden.nn().get("recurrent")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertEquals(256, tests.size(), "golden file should hold all 256 combinations");
        return tests.stream();
    }

    static Params paramsOf(RecurrentConfig cfg, JsonNode jsonParams, String prefix) {
        ParamLayout layout = new ParamLayout();
        cfg.declare(layout, prefix);
        Params p = new Params(layout);
        assertEquals(layout.tensors().size(), jsonParams.size(), "tensor count");
        for (Iterator<Map.Entry<String, JsonNode>> it = jsonParams.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ParamLayout.TensorView t = layout.get(prefix + e.getKey());
            assertEquals(List.of(box(Golden.ints(e.getValue().get("shape")))), List.of(box(t.shape())), e.getKey());
            p.set(t.name(), data(e.getValue()));
        }
        return p;
    }

    private static Integer[] box(int[] a) {
        return java.util.Arrays.stream(a).boxed().toArray(Integer[]::new);
    }

    private static void check(JsonNode c) {
        RecurrentConfig cfg = new RecurrentConfig(CellType.fromId(c.get("cell").asText()), c.get("input_size").asInt(),
                c.get("hidden_size").asInt(), c.get("num_layers").asInt(), c.get("bias").asBoolean(), 0.0,
                c.get("bidirectional").asBoolean(), c.get("batch_first").asBoolean());
        Params p = paramsOf(cfg, c.get("params"), "");
        Recurrent rnn = new Recurrent(cfg, p, "");
        int[] lengths = Golden.ints(c.get("lengths"));
        Recurrent.Output out = rnn.forward(data(c.get("input")), c.get("seq_len").asInt(), c.get("batch").asInt(),
                lengths, data(c.get("h0")), data(c.get("c0")), null);
        String name = c.get("name").asText();
        assertClose(name + " output", data(c.get("output")), out.output());
        assertClose(name + " h_n", data(c.get("h_n")), out.hN());
        if (cfg.cell().hasCellState()) {
            assertClose(name + " c_n", data(c.get("c_n")), out.cN());
        } else {
            assertNull(out.cN());
        }

        Recurrent.InputGrads g = rnn.backward(data(c.get("d_output")), data(c.get("d_h_n")), data(c.get("d_c_n")));
        JsonNode grads = c.get("grad");
        for (ParamLayout.TensorView t : p.layout.tensors()) {
            assertClose(name + " grad " + t.name(), data(grads.get(t.name())), p.grad(t.name()));
        }
        assertClose(name + " grad input", data(grads.get("input")), g.dInput());
        if (!grads.get("h0").isNull()) {
            assertClose(name + " grad h0", data(grads.get("h0")), g.dH0());
        }
        if (grads.has("c0") && !grads.get("c0").isNull()) {
            assertClose(name + " grad c0", data(grads.get("c0")), g.dC0());
        }
    }
}
