package dev.seqspark.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.io.Location;
import dev.seqspark.model.Classifier;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.testutil.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classifiers cross between PyTorch and SeqSpark: the reference LSTM_GRU module trained and saved by
 * PyTorch (make_classify_golden.py, tools/seqspark_torch.save_classifier_dir) loads here and gives PyTorch's
 * probabilities for 41 passages (one with characters out of the vocabulary); a classifier saved here
 * (golden/classify_java_model, written by {@link #main}) loads in PyTorch, which recorded its probabilities;
 * the writer still produces that PyTorch-checked directory byte for byte. Within 1e-5 relative or 1e-6 absolute.
 */
class ClassifierInteropTest {

    /** Class probabilities of one record, computed here (float32) with the record alone in its batch. */
    static float[] probabilities(Model<ClassifierSpec> m, int[] ids) {
        Classifier c = new Classifier(m.spec(), m.params()).freezeWeights();
        float[] logits = c.forward(ids, ids.length, 1, new int[] {ids.length}, null);
        return c.probabilities(logits, 1).clone();
    }

    private static void check(String dir, String predictions) {
        JsonNode g = Golden.load("/golden/" + predictions);
        Model<ClassifierSpec> m = ModelDir.readForInference(Location.local(Golden.resource(dir)), ClassifierSpec.class);
        assertEquals(List.of("dickens", "twain"), m.labels());
        for (int i = 0; i < g.get("texts").size(); i++) {
            String text = g.get("texts").get(i).asText();
            int[] ids = m.encode(text);
            assertArrayEquals(Golden.ints(g.get("ids").get(i)), ids, "token ids of text " + i);
            Golden.assertClose(dir + " text " + i, Golden.data(g.get("probabilities").get(i)),
                    java.util.Arrays.copyOf(probabilities(m, ids), 2));
        }
    }

    @Test
    void pyTorchClassifierLoadsHere() {
        check("classify_torch_model", "classify_torch_predictions.json");
        Model<ClassifierSpec> m = ModelDir.read(Location.local(Golden.resource("classify_torch_model")), ClassifierSpec.class);
        assertEquals("lstm", m.spec().blocks().get(0).name());
        assertEquals("gru", m.spec().blocks().get(1).name());
        assertTrue(m.spec().layout().contains("lstm.weight_ih_l0") && m.spec().layout().contains("gru.bias_hh_l0")
                && m.spec().layout().contains("fc.weight"), "the reference module's state_dict names");
    }

    @Test
    void classifierSavedHereLoadsInPyTorch() {
        check("classify_java_model", "classify_java_predictions.json");
    }

    @Test
    void todaysWriterReproducesThePyTorchCheckedFiles(@TempDir Path tmp) throws Exception {
        Path committed = Golden.resource("classify_java_model");
        Model<ClassifierSpec> m = ModelDir.read(Location.local(committed), ClassifierSpec.class);
        Path out = tmp.resolve("rewritten");
        ModelDir.write(Location.local(out), m, List.of(), false);
        for (String f : List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.LABELS, ModelDir.WEIGHTS)) {
            assertArrayEquals(Files.readAllBytes(committed.resolve(f)), Files.readAllBytes(out.resolve(f)),
                    f + " as PyTorch verified it");
        }
        try (var files = Files.list(out)) {
            assertEquals(List.of(OutputDir.COMMIT, ModelDir.CONFIG, ModelDir.LABELS, ModelDir.VOCAB, ModelDir.WEIGHTS),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no other file but the commit marker");
        }
    }

    @Test
    void eachReaderNamesTheOtherTask() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ModelDir.read(Location.local(Golden.resource("classify_torch_model")), LanguageModelSpec.class));
        assertTrue(e.getMessage().contains("a classify model (\"task\": \"classify\"), not a language model; use predict"),
                e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> ModelDir.read(Location.local(Golden.resource("torch_model")), ClassifierSpec.class));
        assertTrue(e.getMessage().contains("a language model (no \"task\": \"classify\"), not a classifier"), e.getMessage());
        assertEquals(ModelConfig.TASK_CLASSIFY, ModelDir.task(Location.local(Golden.resource("classify_torch_model"))));
        assertEquals(ModelConfig.TASK_LM, ModelDir.task(Location.local(Golden.resource("torch_model"))));
        assertTrue(OutputDir.isModelDir(Location.local(Golden.resource("classify_torch_model"))), "ours, for --overwrite");
    }

    /**
     * Writes golden/classify_java_model: the PyTorch classifier's weights perturbed, a bidirectional-free copy of
     * its architecture with mean pooling and max_length 150, saved by ClassifierDir. To regenerate: run this
     * class with the test classpath from the repository root (tools/golden/README.md), then
     * tools/golden/make_classify_golden.py, which loads it in PyTorch and records its probabilities.
     */
    public static void main(String[] args) throws Exception {
        Model<ClassifierSpec> torch = ModelDir.read(Location.local(Golden.resource("classify_torch_model")), ClassifierSpec.class);
        ClassifierSpec s = torch.spec();
        ClassifierSpec spec = new ClassifierSpec(s.vocabSize(), s.embeddingDim(), s.blocks(),
                dev.seqspark.nn.Pooling.MEAN, s.numClasses());
        float[] w = torch.weights().clone();
        java.util.SplittableRandom r = new java.util.SplittableRandom(17);
        for (int i = 0; i < w.length; i++) {
            w[i] += (float) (r.nextDouble() - 0.5) * 0.2f;
        }
        Path out = Path.of(args.length > 0 ? args[0] : "src/test/resources/golden/classify_java_model");
        ModelDir.write(Location.local(out), new Model<>(new ModelConfig<>(spec, torch.config().tokenizer(), 150),
                torch.vocab(), torch.labels(), w), List.of(), true);
    }
}
