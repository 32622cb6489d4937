package dev.seqspark.train;

import static dev.seqspark.testutil.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.nn.Params;
import dev.seqspark.testutil.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * One training epoch of the classifier replayed against PyTorch (make_classify_golden.py "epochs"): 42 records of
 * lengths 1–12, bucketed by length into batches of 6 in a shuffled order, each batch packed; SGD (with
 * clip_grad_norm_) and Adam; the reference LSTM→GRU with last pooling, a bi-GRU with mean pooling and class
 * weights, an LSTM(2 layers)→bi-GRU with max pooling. Every per-batch loss and every final weight within 1e-4
 * relative (1e-6 absolute).
 */
class ClassifierTrainEpochGoldenTest {

    @TestFactory
    Stream<DynamicTest> oneEpochAsPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : ClassifierGoldenTest.GOLDEN.get("epochs")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertEquals(4, tests.size());
        return tests.stream();
    }

    private static void check(JsonNode c) {
        String name = c.get("name").asText();
        ClassifierSpec spec = ClassifierGoldenTest.spec(c);
        JsonNode batches = c.get("batches");
        int[][] plan = new int[batches.size()][];
        int most = 0;
        for (int i = 0; i < plan.length; i++) {
            plan[i] = Golden.ints(batches.get(i));
            most = Math.max(most, plan[i].length);
        }
        ClassifierTrainConfig cfg = new ClassifierTrainConfig(most, c.get("optimizer").asText(), c.get("lr").asDouble(),
                c.get("clip").asDouble(), 0, ClassifierGoldenTest.weights(c.get("class_weights")));
        Params init = ClassifierGoldenTest.params(spec, c.get("initial"));
        JsonNode recs = c.get("records");
        int[][] tokens = new int[recs.size()][];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = Golden.ints(recs.get(i));
        }
        LabeledRecords data = new LabeledRecords(tokens, Golden.ints(c.get("labels")));
        // PyTorch's batches, one at a time: a shard of exactly one batch's records is one batch (batch_size = the largest).
        ClassifierTask task = new ClassifierTask(spec, cfg);
        ShardTrainer<RecordShard> trainer = new ShardTrainer<>(task);
        ModelState state = ShardTrainer.startingFrom(task, init.values);
        List<Double> losses = new ArrayList<>();
        long trained = 0;
        for (int[] batch : plan) {
            int[][] t = new int[batch.length][];
            int[] y = new int[batch.length];
            for (int i = 0; i < batch.length; i++) {
                t[i] = data.tokens()[batch[i]];
                y[i] = data.labels()[batch[i]];
            }
            ShardTrainer.Result r = trainer.train(state, null, new RecordShard(0, new LabeledRecords(t, y),
                    LabeledRecords.empty(), 0, 0), 0, 0, 0, losses::add);
            assertEquals(1, r.batches());
            trained += r.examples();
            state = r.state();
        }

        JsonNode expected = c.get("batch_losses");
        assertEquals(expected.size(), losses.size(), name + ": batches");
        assertEquals(data.size(), trained, "records trained");
        float[] e = new float[losses.size()];
        float[] a = new float[losses.size()];
        for (int i = 0; i < e.length; i++) {
            e[i] = (float) expected.get(i).asDouble();
            a[i] = losses.get(i).floatValue();
        }
        assertClose(name + " per-batch losses", e, a, 1e-4, 1e-6);
        Params fin = Params.of(spec.layout(), state.weights());
        for (ParamLayout.TensorView t : fin.layout.tensors()) {
            assertClose(name + " final " + t.name(), Golden.data(c.get("final").get(t.name())), fin.get(t.name()), 1e-4, 1e-6);
        }
    }
}
