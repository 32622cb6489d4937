package dev.seqspark.train;

import static dev.seqspark.testutil.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.nn.Params;
import dev.seqspark.testutil.Golden;
import dev.seqspark.text.Partitioning;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * One epoch of d2l's train_epoch_ch8 in PyTorch (sequential partitioning at offset 0, state carried and
 * detached, mean cross-entropy, clip_grad_norm_ 1.0, SGD lr 1 or Adam) from given weights, on 3000
 * characters of Tom Sawyer: every per-batch loss and every final weight within 1e-4 relative (1e-6 absolute).
 */
class TrainEpochGoldenTest {
    private static final JsonNode GOLDEN = Golden.load("/golden/lm_train_golden.json.gz");

    @TestFactory
    Stream<DynamicTest> oneEpochAsPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : GOLDEN.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertEquals(4, tests.size());
        return tests.stream();
    }

    private static void check(JsonNode c) {
        String name = c.get("name").asText();
        LanguageModelSpec spec = new LanguageModelSpec(CellType.fromId(c.get("cell").asText()), c.get("vocab_size").asInt(),
                c.get("embedding_dim").asInt(), c.get("hidden_size").asInt(), c.get("num_layers").asInt(), true, 0.0);
        TrainConfig cfg = new TrainConfig(c.get("batch_size").asInt(), c.get("num_steps").asInt(), Partitioning.SEQUENTIAL,
                c.get("offset").asInt(), c.get("optimizer").asText(), c.get("lr").asDouble(), c.get("clip").asDouble(), 0);
        Params init = new Params(spec.layout());
        for (ParamLayout.TensorView t : init.layout.tensors()) {
            init.set(t.name(), Golden.data(c.get("initial").get(t.name())));
        }
        int[] corpus = Golden.ints(c.get("corpus"));
        LanguageModelTask task = LanguageModelTask.of(spec, cfg, 0);
        ModelState start = ShardTrainer.startingFrom(task, init.values);
        List<Double> losses = new ArrayList<>();
        ShardTrainer.Result r = new ShardTrainer<>(task).train(start, null, new TokenShard(0, corpus, new int[0], 0), 0, 0,
                0, losses::add);

        JsonNode expected = c.get("batch_losses");
        assertEquals(expected.size(), losses.size(), name + ": batches");
        float[] e = new float[losses.size()];
        float[] a = new float[losses.size()];
        for (int i = 0; i < e.length; i++) {
            e[i] = (float) expected.get(i).asDouble();
            a[i] = losses.get(i).floatValue();
        }
        assertClose(name + " per-batch losses", e, a, 1e-4, 1e-6);
        Params fin = new Params(spec.layout());
        fin.setValues(r.state().weights());
        for (ParamLayout.TensorView t : fin.layout.tensors()) {
            assertClose(name + " final " + t.name(), Golden.data(c.get("final").get(t.name())), fin.get(t.name()), 1e-4, 1e-6);
        }
    }
}
