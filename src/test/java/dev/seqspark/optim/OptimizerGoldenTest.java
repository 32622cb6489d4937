package dev.seqspark.optim;

import static dev.seqspark.testutil.Golden.assertClose;
import static dev.seqspark.testutil.Golden.data;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.testutil.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * torch.optim.SGD / Adam steps and clip_grad_norm_, in float32 as PyTorch ran them. SGD and Adam agree
 * to the bit on this machine (PyTorch fuses a + α·b, and so do we); we hold them to 1e-6 relative so that
 * a CPU without FMA cannot fail them. Clipping sums the squares in another order, so 1e-6 relative too.
 */
class OptimizerGoldenTest {

    @TestFactory
    Stream<DynamicTest> agreesWithPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Golden.nn().get("optim")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertEquals(7, tests.size());
        return tests.stream();
    }

    /** The case's tensors concatenated into one flat array, as SeqSpark keeps parameters. */
    private static float[] flat(JsonNode tensors) {
        List<float[]> parts = new ArrayList<>();
        int n = 0;
        for (JsonNode t : tensors) {
            float[] d = data(t);
            parts.add(d);
            n += d.length;
        }
        float[] out = new float[n];
        int o = 0;
        for (float[] d : parts) {
            System.arraycopy(d, 0, out, o, d.length);
            o += d.length;
        }
        return out;
    }

    private static void check(JsonNode c) {
        String name = c.get("name").asText();
        JsonNode h = c.get("hyper");
        float[] w = flat(c.get("params"));
        switch (c.get("kind").asText()) {
            case "clip" -> {
                float[] g = flat(c.get("grads").get(0));
                double norm = GradClip.clipByGlobalNorm(g, h.get("max_norm").asDouble());
                assertClose(name + " total_norm", new float[] {(float) c.get("total_norm").asDouble()},
                        new float[] {(float) norm}, 1e-6, 0);
                assertClose(name + " clipped", flat(c.get("after").get(0)), g, 1e-6, 0);
            }
            case "sgd", "adam" -> {
                Optimizer opt = c.get("kind").asText().equals("sgd")
                        ? new Sgd(w.length, h.get("lr").asDouble(), h.get("momentum").asDouble(),
                                h.get("weight_decay").asDouble())
                        : new Adam(w.length, h.get("lr").asDouble(), h.get("beta1").asDouble(),
                                h.get("beta2").asDouble(), h.get("eps").asDouble(), h.get("weight_decay").asDouble());
                for (int s = 0; s < c.get("grads").size(); s++) {
                    opt.step(w, flat(c.get("grads").get(s)));
                    assertClose(name + " step " + (s + 1), flat(c.get("after").get(s)), w, 1e-6, 0);
                }
            }
            default -> throw new IllegalArgumentException(c.get("kind").asText());
        }
    }
}
