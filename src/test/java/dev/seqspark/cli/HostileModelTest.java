package dev.seqspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.testutil.Golden;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile, mistaken and diverged model directories through the command line: exit code 2, one line on stderr
 * naming the file and the problem, no stack trace, nothing written. The model is read before Spark starts,
 * so none of these needs a Spark session.
 */
class HostileModelTest {
    @TempDir
    static Path tmp;
    static Model<LanguageModelSpec> model;
    static Path input;

    @BeforeAll
    static void setUp() throws IOException {
        model = ModelDir.read(Location.local(Golden.resource("torch_model")), LanguageModelSpec.class);
        input = tmp.resolve("in.txt");
        Files.writeString(input, "Tom said\n");
    }

    /** {exit code, stdout, stderr}. */
    static Object[] run(String... args) {
        return ScoreCommandTest.run(args);
    }

    private static Path modelDir(String name) throws IOException {
        Path dir = tmp.resolve(name);
        ModelDir.write(Location.local(dir), model, List.of(), false);
        return dir;
    }

    /** `score` on {@code dir}: exit 2, one stderr line containing {@code fragment}, no output directory. */
    private static void scoreRefuses(Path dir, String fragment) {
        Path out = tmp.resolve("out-" + dir.getFileName());
        Object[] r = run("score", "--model", dir.toString(), "--input", input.toString(), "--output", out.toString());
        oneLineRefusal(r, fragment);
        assertFalse(Files.exists(out), "no output written");
    }

    private static void oneLineRefusal(Object[] r, String fragment) {
        String err = (String) r[2];
        assertEquals(2, r[0], err);
        assertEquals(1, err.strip().lines().count(), "one line on stderr:\n" + err);
        assertTrue(err.contains(fragment), "stderr should mention '" + fragment + "':\n" + err);
        assertFalse(err.contains("\tat "), "no stack trace");
        assertEquals("", r[1], "nothing on stdout");
    }

    @Test
    void theIssuesTwentyMillionLayers() throws IOException {
        Path dir = modelDir("layers");
        String cfg = Files.readString(dir.resolve("config.json")).replace("\"num_layers\" : 1", "\"num_layers\" : 20000000");
        assertTrue(cfg.length() < 400 && cfg.contains("20000000"));
        Files.writeString(dir.resolve("config.json"), cfg);
        scoreRefuses(dir, "config.json: 'num_layers' must be an integer in [1, 256], found 20000000");
        Path out = tmp.resolve("gen-out");
        Object[] r = run("generate", "--model", dir.toString(), "--prefixes", input.toString(), "--output", out.toString());
        oneLineRefusal(r, "'num_layers' must be an integer");
        assertFalse(Files.exists(out));
    }

    @Test
    void configsThatDoNotMatchTheWeights() throws IOException {
        Path dir = modelDir("mismatch");
        String cfg = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"hidden_size\" : 32", "\"hidden_size\" : 65536")
                .replace("\"num_layers\" : 1", "\"num_layers\" : 256"));
        scoreRefuses(dir, "parameters, more than the 2147483639 one float[] holds");
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"hidden_size\" : 32", "\"hidden_size\" : 20000"));
        scoreRefuses(dir, "weights.safetensors: holds 49176 bytes of tensor data, but config.json implies");
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"hidden_size\" : 32", "\"hidden_size\" : 32.0"));
        scoreRefuses(dir, "'hidden_size' must be an integer in [1, 65536], found 32.0");
        Files.writeString(dir.resolve("config.json"), cfg.substring(0, cfg.length() / 2));
        scoreRefuses(dir, "config.json: not valid JSON");
        Files.writeString(dir.resolve("config.json"), cfg.replace("{", "{\"num_layers\": 1, "));
        scoreRefuses(dir, "Duplicate field 'num_layers'");
    }

    @Test
    void vocabularyAndHeaderLies() throws IOException {
        Path dir = modelDir("lies");
        StringBuilder sb = new StringBuilder("{\"tokens\":[\"<unk>\"");
        for (int i = 0; i < 100_000; i++) {
            sb.append(",\"t").append(i).append('"');
        }
        Files.writeString(dir.resolve("vocab.json"), sb.append("]}"));
        scoreRefuses(dir, "vocab.json: has more than 70 tokens, but config.json says vocab_size 70");
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        dir = modelDir("lies");
        byte[] w = Files.readAllBytes(dir.resolve("weights.safetensors"));
        String header = new String(w, 8, (int) ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).getLong(0), StandardCharsets.UTF_8);
        String lying = header.replace("[96,70]", "[96,2000000000]");
        assertTrue(lying.length() > header.length());
        byte[] forged = ByteBuffer.allocate(w.length + lying.length() - header.length()).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(lying.length()).put(lying.getBytes(StandardCharsets.UTF_8))
                .put(w, 8 + header.length(), w.length - 8 - header.length()).array();
        Files.write(dir.resolve("weights.safetensors"), forged);
        scoreRefuses(dir, "tensor 'rnn.weight_ih_l0' has shape [96, 2000000000], but config.json implies [96, 70]");
        ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        Files.write(dir.resolve("weights.safetensors"), w);
        scoreRefuses(dir, "weights.safetensors: header length 9223372036854775807 does not fit");
    }

    /** A model whose weights hold NaN and +Inf: refused for scoring and generation, readable for training. */
    @Test
    void nonFiniteWeightsAreRefusedForInference() throws IOException {
        ParamLayout layout = model.spec().layout();
        float[] w = model.weights().clone();
        w[layout.get("rnn.weight_hh_l0").offset() + 5] = Float.NaN;
        w[layout.get("linear.bias").offset()] = Float.POSITIVE_INFINITY;
        Path dir = tmp.resolve("nan");
        ModelDir.write(Location.local(dir), new Model<>(model.config(), model.vocab(), w), List.of(), false);

        String first = "tensor 'rnn.weight_hh_l0' [96, 32] holds NaN at flat index 5";
        scoreRefuses(dir, first);
        oneLineRefusal(run("generate", "--model", dir.toString(), "--prefix", "Tom"), first);
        Path out = tmp.resolve("nan-gen");
        oneLineRefusal(run("generate", "--model", dir.toString(), "--prefixes", input.toString(), "--output", out.toString()),
                "cannot score or generate");
        assertFalse(Files.exists(out));

        // Plain ModelDir.read does not judge values: training (--init, --resume) reads such weights and
        // reports the divergence itself.
        Model<LanguageModelSpec> back = ModelDir.read(Location.local(dir), LanguageModelSpec.class);
        assertTrue(Float.isNaN(back.weights()[layout.get("rnn.weight_hh_l0").offset() + 5]));

        w[layout.get("rnn.weight_hh_l0").offset() + 5] = 0.5f;
        Path inf = tmp.resolve("inf");
        ModelDir.write(Location.local(inf), new Model<>(model.config(), model.vocab(), w), List.of(), false);
        scoreRefuses(inf, "tensor 'linear.bias' [70] holds Infinity at flat index 0");
    }
}
