package dev.seqspark.io;

import static dev.seqspark.io.ModelDirFuzzTest.absentOrBoolean;
import static dev.seqspark.io.ModelDirFuzzTest.isInt;
import static dev.seqspark.io.ModelDirFuzzTest.isText;
import static dev.seqspark.io.ModelDirFuzzTest.jsonFile;
import static dev.seqspark.io.ModelDirFuzzTest.name;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Pooling;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and mistaken classifier model directories, with ModelDirFuzzTest's mutation engine: 2,600 seeded
 * mutations of a classifier's config.json (blocks, pooling, classes, max_length), labels.json and the weights
 * header, plus a classifier checkpoint's checkpoint.json, each judged by an independent statement of the format
 * (the oracles below): a one-line ModelFormatException naming the file, or — only when still valid — a read.
 * And named cases: a block of 20 million layers, too many parameters, more labels than classes, missing files.
 */
class ClassifierDirFuzzTest {
    @TempDir
    static Path tmp;
    /** Embedding → bi-GRU → 2-layer LSTM, mean pooling, 3 classes: every kind of block option is there. */
    static final ClassifierSpec SPEC = new ClassifierSpec(6, 3, List.of(
            new RecurrentBlock("gru", CellType.GRU, 4, 1, true, 0.0, true),
            new RecurrentBlock("lstm", CellType.LSTM, 3, 2, false, 0.25, true)), Pooling.MEAN, 3);
    static final List<String> LABELS = List.of("spam", "ham", "eggs");
    static Path modelDir;
    static Path checkpointDir;
    static Map<String, byte[]> original;

    @BeforeAll
    static void write() throws IOException {
        Model<ClassifierSpec> m = new Model<>(new ModelConfig<>(SPEC, TokenizerConfig.chars(), 40),
                new Vocab(List.of("<unk>", "a", "b", " ", "\n", "é")), LABELS, SPEC.initParams(7).values);
        modelDir = tmp.resolve("model");
        ModelDir.write(Location.local(modelDir), m, List.of(), false);
        checkpointDir = tmp.resolve("checkpoint");
        float[] adam = new float[2 * m.weights().length];
        Arrays.fill(adam, 0.125f);
        Checkpoint.write(Location.local(checkpointDir), m, List.of(), new Checkpoint.State(3, 42, adam,
                new float[0], Map.of("train.optimizer", "adam", "task", "classify")));
        original = Map.of(ModelDir.CONFIG, Files.readAllBytes(modelDir.resolve(ModelDir.CONFIG)),
                ModelDir.LABELS, Files.readAllBytes(modelDir.resolve(ModelDir.LABELS)),
                ModelDir.WEIGHTS, Files.readAllBytes(modelDir.resolve(ModelDir.WEIGHTS)),
                Checkpoint.FILE, Files.readAllBytes(checkpointDir.resolve(Checkpoint.FILE)));
    }

    @Test
    void configJson() throws IOException {
        ModelDirFuzzTest.fuzz(ModelDir.CONFIG, original.get(ModelDir.CONFIG), 1200, modelDir, tmp,
                () -> ModelDir.read(Location.local(modelDir), ClassifierSpec.class), b -> jsonFile(b, ClassifierDirFuzzTest::validConfig));
    }

    @Test
    void labelsJson() throws IOException {
        ModelDirFuzzTest.fuzz(ModelDir.LABELS, original.get(ModelDir.LABELS), 700, modelDir, tmp,
                () -> ModelDir.read(Location.local(modelDir), ClassifierSpec.class), b -> jsonFile(b, ClassifierDirFuzzTest::validLabels));
    }

    @Test
    void weightsHeader() throws IOException {
        ModelDirFuzzTest.fuzz(ModelDir.WEIGHTS, original.get(ModelDir.WEIGHTS), 500, modelDir, tmp,
                () -> ModelDir.read(Location.local(modelDir), ClassifierSpec.class), b -> ModelDirFuzzTest.validSafetensors(b, SPEC.layout()));
    }

    @Test
    void checkpointOfAClassifier() throws IOException {
        ModelDirFuzzTest.fuzz(Checkpoint.FILE, original.get(Checkpoint.FILE), 200, checkpointDir, tmp,
                () -> Checkpoint.read(Location.local(checkpointDir)), b -> jsonFile(b, ClassifierDirFuzzTest::validCheckpoint));
        assertEquals(2 * SPEC.parameterCount(), Checkpoint.read(Location.local(checkpointDir)).optimizerState().length,
                "the state size follows from the classifier's config");
    }

    // -------------------------------------------------------------------------------------------- oracles

    /** A block as the weights were written, with its optional keys absent or as written, the rest in range. */
    private static boolean validBlock(JsonNode b, String name, String cell, int input, int hidden, int layers, boolean bi) {
        JsonNode dropout = b.get("dropout");
        return b.isObject() && isText(b.get("name"), name) && b.has("cell") && b.get("cell").isTextual()
                && name(b.get("cell")).equals(cell) && isInt(b.get("hidden_size"), hidden)
                && isInt(b.get("num_layers"), layers)
                && (bi ? BooleanNode.TRUE.equals(b.get("bidirectional")) : !b.has("bidirectional")
                        || BooleanNode.FALSE.equals(b.get("bidirectional")))
                && (!b.has("bias") || BooleanNode.TRUE.equals(b.get("bias")))
                && (dropout == null || dropout.isNumber() && dropout.asDouble() >= 0 && dropout.asDouble() < 1)
                && (!b.has("input_size") || isInt(b.get("input_size"), input));
    }

    static boolean validConfig(JsonNode o) {
        JsonNode tok = o.get("tokenizer");
        JsonNode blocks = o.get("blocks");
        return isText(o.get("format"), "seqspark-model") && isInt(o.get("version"), 1) && isText(o.get("task"), "classify")
                && isInt(o.get("vocab_size"), 6) && isInt(o.get("embedding_dim"), 3)
                && blocks != null && blocks.isArray() && blocks.size() == 2
                && validBlock(blocks.get(0), "gru", "gru", 3, 4, 1, true)
                && validBlock(blocks.get(1), "lstm", "lstm", 8, 3, 2, false)
                && o.has("pooling") && o.get("pooling").isTextual() && name(o.get("pooling")).equals("mean")
                && isInt(o.get("num_classes"), 3)
                && (!o.has("max_length") || isInt(o.get("max_length"), 0, Integer.MAX_VALUE))
                && tok != null && tok.isObject() && tok.has("level") && tok.get("level").isTextual()
                && List.of("char", "word").contains(name(tok.get("level")))
                && absentOrBoolean(tok, "lowercase") && absentOrBoolean(tok, "letters_only");
    }

    /** labels.json: exactly num_classes distinct strings of 1 to 1000 characters (any names); other keys ignored. */
    static boolean validLabels(JsonNode o) {
        JsonNode l = o.get("labels");
        if (l == null || !l.isArray() || l.size() != LABELS.size()) {
            return false;
        }
        Set<String> seen = new HashSet<>();
        for (JsonNode x : l) {
            if (!x.isTextual() || x.asText().isEmpty() || x.asText().length() > 1000 || !seen.add(x.asText())) {
                return false;
            }
        }
        return true;
    }

    /** checkpoint.json of the classifier: Adam's state is 2 × the parameters its config.json implies. */
    static boolean validCheckpoint(JsonNode o) {
        return ModelDirFuzzTest.validCheckpoint(o, SPEC.layout().size());
    }

    // ------------------------------------------------------------------------------- named hostile cases

    private static Path copyOfModel(String name) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        for (String f : List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.LABELS, ModelDir.WEIGHTS)) {
            Files.copy(modelDir.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    private static String refused(Path dir) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelDir.read(Location.local(dir), ClassifierSpec.class));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private static void replaceInConfig(Path dir, String from, String to) throws IOException {
        String cfg = Files.readString(dir.resolve(ModelDir.CONFIG), StandardCharsets.UTF_8);
        assertTrue(cfg.contains(from), cfg);
        Files.writeString(dir.resolve(ModelDir.CONFIG), cfg.replace(from, to));
    }

    @Test
    void aBlockOfTwentyMillionLayers() throws IOException {
        Path dir = copyOfModel("layers");
        replaceInConfig(dir, "\"num_layers\" : 2", "\"num_layers\" : 20000000");
        String msg = refused(dir);
        assertTrue(msg.contains("config.json: 'blocks[1].num_layers' must be an integer in [1, 256], found 20000000"), msg);
    }

    @Test
    void tooManyParametersForOneArray() throws IOException {
        Path dir = copyOfModel("params");
        replaceInConfig(dir, "\"hidden_size\" : 3", "\"hidden_size\" : 65536");
        replaceInConfig(dir, "\"num_layers\" : 2", "\"num_layers\" : 256");
        assertTrue(refused(dir).contains("parameters, more than the 2147483639 one float[] holds"));
        Path many = copyOfModel("classes");
        replaceInConfig(many, "\"num_classes\" : 3", "\"num_classes\" : 1");
        assertTrue(refused(many).contains("'num_classes' must be an integer in [2, 65536], found 1"));
    }

    @Test
    void labelsThatDoNotFitTheClasses() throws IOException {
        Path dir = copyOfModel("labels");
        StringBuilder sb = new StringBuilder("{\"labels\":[\"a\"");
        for (int i = 0; i < 100_000; i++) {
            sb.append(",\"l").append(i).append('"');
        }
        Files.writeString(dir.resolve(ModelDir.LABELS), sb.append("]}").toString());
        assertTrue(refused(dir).contains("labels.json: has more than 3 labels, but config.json says num_classes 3"));
        Files.writeString(dir.resolve(ModelDir.LABELS), "{\"labels\":[\"a\",\"b\",\"a\"]}");
        assertTrue(refused(dir).contains("label 'a' appears twice"));
        Files.writeString(dir.resolve(ModelDir.LABELS), "{\"labels\":[\"a\",\"\",\"c\"]}");
        assertTrue(refused(dir).contains("label 1 must have 1 to 1000 characters, found 0"));
        Files.writeString(dir.resolve(ModelDir.LABELS), "{\"labels\":[\"a\",\"b\"]}");
        assertTrue(refused(dir).contains("labels.json: has 2 labels, but config.json says num_classes 3"));
        Files.delete(dir.resolve(ModelDir.LABELS));
        assertTrue(refused(dir).endsWith("labels.json: missing"));
    }

    @Test
    void nanWeightsAreRefusedForInferenceOnly() throws IOException {
        Path dir = tmp.resolve("nan");
        float[] w = SPEC.initParams(3).values;
        w[SPEC.layout().get("fc.bias").offset() + 1] = Float.NaN;
        ModelDir.write(Location.local(dir), new Model<>(new ModelConfig<>(SPEC, TokenizerConfig.chars(), 0),
                new Vocab(List.of("<unk>", "a", "b", " ", "\n", "é")), LABELS, w), List.of(), false);
        assertTrue(Float.isNaN(ModelDir.read(Location.local(dir), ClassifierSpec.class).weights()[SPEC.layout().get("fc.bias").offset() + 1]));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelDir.readForInference(Location.local(dir), ClassifierSpec.class));
        assertTrue(e.getMessage().contains("tensor 'fc.bias' [3] holds NaN at flat index 1"), e.getMessage());
    }

    @Test
    void parameterCountMatchesTheLayout() {
        SplittableRandom rnd = new SplittableRandom(5);
        CellType[] cells = CellType.values();
        for (int i = 0; i < 300; i++) {
            int n = 1 + rnd.nextInt(3);
            List<RecurrentBlock> blocks = new java.util.ArrayList<>();
            for (int k = 0; k < n; k++) {
                blocks.add(new RecurrentBlock("b" + k, cells[rnd.nextInt(cells.length)], 1 + rnd.nextInt(9),
                        1 + rnd.nextInt(3), rnd.nextBoolean(), 0, rnd.nextBoolean()));
            }
            ClassifierSpec s = new ClassifierSpec(1 + rnd.nextInt(30), rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(8), blocks,
                    Pooling.values()[rnd.nextInt(3)], 2 + rnd.nextInt(5));
            assertEquals(s.layout().size(), s.parameterCount(), s.toString());
        }
    }
}
