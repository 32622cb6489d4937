package dev.seqspark.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.testutil.Golden;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Models cross between PyTorch and SeqSpark: a model PyTorch saved (tools/seqspark_torch.py) loads here and
 * gives PyTorch's log-likelihood of a text; a model saved here (golden/java_model, written by
 * {@link #main}) loads in PyTorch, which recorded its log-likelihood of the same text. Within 1e-5 relative.
 */
class TorchInteropTest {

    /** Σ log p(token_i | tokens before it), state from zeros, char tokens of {@code text}. */
    static double logLikelihood(Model<LanguageModelSpec> m, String text) {
        List<String> toks = m.tokenizer().textTokens(text);
        int[] ids = m.vocab().encode(toks);
        LanguageModel lm = new LanguageModel(m.spec(), m.params());
        int n = ids.length - 1;
        int[] x = java.util.Arrays.copyOf(ids, n);
        int[] y = java.util.Arrays.copyOfRange(ids, 1, ids.length);
        return -lm.sumLoss(x, y, n, 1, null, new LanguageModel.State(m.spec(), 1));
    }

    private static void check(String modelDir, String loglikFile) {
        JsonNode g = Golden.load("/golden/" + loglikFile);
        Model<LanguageModelSpec> m = ModelDir.read(Location.local(Golden.resource(modelDir)), LanguageModelSpec.class);
        String text = g.get("text").asText();
        assertArrayEquals(Golden.ints(g.get("ids")), m.vocab().encode(m.tokenizer().textTokens(text)),
                "token ids (one per code point, unknown → <unk>)");
        double ll = logLikelihood(m, text);
        double expected = g.get("log_likelihood").asDouble();
        assertEquals(expected, ll, 1e-5 * Math.abs(expected), "log-likelihood");
    }

    @Test
    void pyTorchModelLoadsHere() {
        check("torch_model", "torch_model_loglik.json");
    }

    @Test
    void modelSavedHereLoadsInPyTorch() {
        check("java_model", "java_model_loglik.json");
    }

    /**
     * The committed java_model is what PyTorch loaded and scored; today's writer must still produce it, byte for
     * byte, from the same weights — so a change to the writer fails here until PyTorch has checked its output
     * again (regenerate as {@link #main} says).
     */
    @Test
    void todaysWriterReproducesThePyTorchCheckedFiles(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Model<LanguageModelSpec> committed = ModelDir.read(Location.local(Golden.resource("java_model")), LanguageModelSpec.class);
        Path out = tmp.resolve("rewritten");
        ModelDir.write(Location.local(out), new Model<>(committed.config(), committed.vocab(), committed.weights()), List.of(), false);
        for (String f : List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS)) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    java.nio.file.Files.readAllBytes(Golden.resource("java_model").resolve(f)),
                    java.nio.file.Files.readAllBytes(out.resolve(f)), f + " as PyTorch verified it");
        }
        try (var files = java.nio.file.Files.list(out)) {
            assertEquals(List.of(OutputDir.COMMIT, ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no other file but the commit marker");
        }
    }

    /**
     * Writes golden/java_model: the PyTorch model's weights perturbed, saved by SeqSpark's ModelDir. To
     * regenerate: run this class with the test classpath from the repository root (tools/golden/README.md),
     * then tools/golden/make_lm_golden.py, which loads it in PyTorch and records its log-likelihood.
     */
    public static void main(String[] args) throws Exception {
        Model<LanguageModelSpec> torch = ModelDir.read(Location.local(Golden.resource("torch_model")), LanguageModelSpec.class);
        float[] w = torch.weights().clone();
        java.util.SplittableRandom r = new java.util.SplittableRandom(17);
        for (int i = 0; i < w.length; i++) {
            w[i] += (float) (r.nextDouble() - 0.5) * 0.05f;
        }
        Path out = Path.of(args.length > 0 ? args[0] : "src/test/resources/golden/java_model");
        ModelDir.write(Location.local(out), new Model<>(torch.config(), torch.vocab(), w), List.of(), true);
    }
}
