package dev.seqspark.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and mistaken model files. A few thousand seeded mutations (numbers, types, keys, truncations, byte
 * flips, huge values, wrong names) of a small model's config.json, vocab.json and weights.safetensors header,
 * and of a checkpoint's checkpoint.json and optimizer.safetensors header. Each mutated directory is read, and
 * the outcome must be what an independent statement of the format (the oracles at the end of this file) says:
 * a ModelFormatException with a one-line message naming the mutated file, or — only when the mutation left
 * the files valid — a successful read. Any other Throwable (OutOfMemoryError, NegativeArraySizeException, a
 * Jackson exception, …) fails the test with the mutation described; so does a file written by the reader.
 */
class ModelDirFuzzTest {
    private static final long SEED = 20261108L;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How the readers parse: strict JSON. The oracles parse the mutated bytes the same way. */
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    @TempDir
    static Path tmp;
    /** The model: LSTM (4 gates) with an embedding, 2 layers and biases, so every kind of tensor is there. */
    static final LanguageModelSpec SPEC = new LanguageModelSpec(CellType.LSTM, 6, 3, 4, 2, true, 0.25);
    static final List<String> TOKENS = List.of("<unk>", "a", "b", " ", "\n", "é");
    static final String ADAM_STATE = "optimizer_state";
    static Path modelDir;
    static Path checkpointDir;
    static Map<String, byte[]> original;

    @BeforeAll
    static void writeModelAndCheckpoint() throws IOException {
        Model<LanguageModelSpec> m = new Model<>(new ModelConfig<>(SPEC, TokenizerConfig.chars()), new Vocab(TOKENS), SPEC.initParams(7).values);
        modelDir = tmp.resolve("model");
        ModelDir.write(Location.local(modelDir), m, List.of(), false);
        checkpointDir = tmp.resolve("checkpoint");
        float[] adam = new float[2 * m.weights().length];
        Arrays.fill(adam, 0.125f);
        Checkpoint.write(Location.local(checkpointDir), m, List.of(), new Checkpoint.State(3, 42, adam, new float[0],
                Map.of("train.optimizer", "adam", "train.lr", "0.01", "model.cell", "lstm")));
        original = Map.of(ModelDir.CONFIG, read(modelDir, ModelDir.CONFIG), ModelDir.VOCAB, read(modelDir, ModelDir.VOCAB),
                ModelDir.WEIGHTS, read(modelDir, ModelDir.WEIGHTS), Checkpoint.FILE, read(checkpointDir, Checkpoint.FILE),
                Checkpoint.OPTIMIZER, read(checkpointDir, Checkpoint.OPTIMIZER));
    }

    private static byte[] read(Path dir, String file) throws IOException {
        return Files.readAllBytes(dir.resolve(file));
    }

    // ---------------------------------------------------------------------------------------------- the fuzz

    @Test
    void configJson() throws IOException {
        fuzz(ModelDir.CONFIG, 1200, modelDir, () -> ModelDir.read(Location.local(modelDir), LanguageModelSpec.class), b -> jsonFile(b, ModelDirFuzzTest::validConfig));
    }

    @Test
    void vocabJson() throws IOException {
        fuzz(ModelDir.VOCAB, 800, modelDir, () -> ModelDir.read(Location.local(modelDir), LanguageModelSpec.class), b -> jsonFile(b, ModelDirFuzzTest::validVocab));
    }

    @Test
    void weightsHeader() throws IOException {
        fuzz(ModelDir.WEIGHTS, 1000, modelDir, () -> ModelDir.read(Location.local(modelDir), LanguageModelSpec.class), b -> validSafetensors(b, SPEC.layout()));
    }

    @Test
    void checkpointJson() throws IOException {
        fuzz(Checkpoint.FILE, 700, checkpointDir, () -> Checkpoint.read(Location.local(checkpointDir)),
                b -> jsonFile(b, ModelDirFuzzTest::validCheckpoint));
    }

    @Test
    void optimizerHeader() throws IOException {
        ParamLayout opt = new ParamLayout();
        opt.add(ADAM_STATE, 2 * SPEC.layout().size());
        fuzz(Checkpoint.OPTIMIZER, 400, checkpointDir, () -> Checkpoint.read(Location.local(checkpointDir)), b -> validSafetensors(b, opt));
    }

    interface Oracle {
        boolean valid(byte[] file);
    }

    /** {@code cases} mutations of {@code file} in {@code dir}, each read with {@code reader} and judged by {@code oracle}. */
    private void fuzz(String file, int cases, Path dir, Callable<?> reader, Oracle oracle) throws IOException {
        fuzz(file, original.get(file), cases, dir, tmp, reader, oracle);
    }

    /** As above for any model directory {@code dir} in {@code parent}, {@code orig} being the file's valid bytes. */
    static void fuzz(String file, byte[] orig, int cases, Path dir, Path parent, Callable<?> reader, Oracle oracle)
            throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED ^ file.hashCode());
        assertTrue(oracle.valid(orig), "the oracle accepts the unmutated " + file);
        Set<String> listing = listing(dir);
        Set<String> siblings = listing(parent);
        Mutator mutator = new Mutator(rnd, file.endsWith(".safetensors"));
        int refused = 0;
        int read = 0;
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < cases; i++) {
                Mutation mu = mutator.mutate(orig);
                overwrite(dir.resolve(file), mu.bytes);
                // Byte flips may land anywhere (a string in a skipped value, a float): any outcome but a crash is fine.
                Boolean valid = mu.anyOutcome ? null : oracle.valid(mu.bytes);
                String what = file + " case " + i + " (" + mu.what + ")";
                Throwable thrown = null;
                try {
                    reader.call();
                } catch (Throwable t) {
                    thrown = t;
                }
                assertEquals(listing, listing(dir), what + ": the reader changed the directory");
                assertEquals(siblings, listing(parent), what + ": the reader wrote next to the directory");
                if (thrown == null) {
                    if (Boolean.FALSE.equals(valid)) {
                        fail(what + ": read successfully, but the file is invalid");
                    }
                    read++;
                } else if (thrown instanceof ModelFormatException e) {
                    if (Boolean.TRUE.equals(valid)) {
                        fail(what + ": refused, but the file is valid: " + e.getMessage());
                    }
                    String msg = e.getMessage();
                    assertFalse(msg.contains("\n") || msg.contains("\r"), what + ": message has more than one line: " + msg);
                    assertTrue(msg.contains(file), what + ": message does not name " + file + ": " + msg);
                    assertTrue(msg.length() <= ModelFormatException.MAX_MESSAGE, what + ": message of " + msg.length() + " chars");
                    refused++;
                } else {
                    fail(what + ": threw " + thrown, thrown);
                }
            }
        } finally {
            Files.write(dir.resolve(file), orig);
        }
        System.out.printf("fuzz %s: %d mutations, %d refused, %d read, %.2f s%n", file, cases, refused, read,
                (System.nanoTime() - t0) / 1e9);
        assertTrue(refused > cases / 2 && read > 0, "the mutations should mostly break the file, and sometimes not");
    }

    /** Replaces the content in place: truncating to zero first frees and reallocates blocks, ten times slower here. */
    private static void overwrite(Path f, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b, b.position());
            }
            ch.truncate(bytes.length);
        }
    }

    private static Set<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new HashSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    // ------------------------------------------------------------------------------------------ mutations

    /** A mutated file; {@code anyOutcome} for byte flips, whose effect no oracle predicts. */
    record Mutation(String what, byte[] bytes, boolean anyOutcome) {}

    /** Random mutations of a JSON file or of a safetensors file's header (its data kept). */
    static final class Mutator {
        private final SplittableRandom rnd;
        private final boolean safetensors;
        /** Raw JSON text put where a placeholder string was serialized: values Jackson would not write. */
        private final List<String> raw = new ArrayList<>();

        Mutator(SplittableRandom rnd, boolean safetensors) {
            this.rnd = rnd;
            this.safetensors = safetensors;
        }

        Mutation mutate(byte[] file) throws IOException {
            int kind = rnd.nextInt(100);
            if (kind < 8) {
                int at = rnd.nextInt(file.length);
                return new Mutation("truncated to " + at + " bytes", Arrays.copyOf(file, at), false);
            }
            if (kind < 16) {
                byte[] b = file.clone();
                int end = safetensors ? (int) (8 + headerLength(file)) : b.length;
                boolean data = safetensors && rnd.nextInt(4) == 0;     // flips in the tensor data must still read
                StringBuilder what = new StringBuilder("bytes flipped at");
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                    int at = data ? end + rnd.nextInt(b.length - end) : rnd.nextInt(end);
                    b[at] ^= (byte) (1 + rnd.nextInt(255));
                    what.append(' ').append(at);
                }
                return new Mutation(what.toString(), b, !data);
            }
            if (safetensors && kind < 24) {
                long n = headerLength(file);
                long[] lengths = {0, -1, 1, n - 1, n + 1, n + 8, n - 8, file.length - 8, file.length, 1L << 31, 1L << 32,
                        Long.MAX_VALUE, Long.MIN_VALUE, (16L << 20) + 1, 2};
                long len = lengths[rnd.nextInt(lengths.length)];
                byte[] b = file.clone();
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
                return new Mutation("header length " + len, b, false);
            }
            raw.clear();
            String what;
            byte[] json;
            if (kind >= 96) {                                     // the whole file (or header) becomes something else
                JsonNode v = hostile(null);
                what = "root replaced by " + describe(v);
                json = serialize(v);
            } else {
                JsonNode tree = parse(file);
                what = mutateTree(tree);
                json = serialize(tree);
            }
            if (!safetensors) {
                return new Mutation(what, json, false);
            }
            long n = headerLength(file);
            ByteBuffer b = ByteBuffer.allocate(8 + json.length + (int) (file.length - 8 - n)).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(json.length).put(json).put(file, (int) (8 + n), (int) (file.length - 8 - n));
            return new Mutation("header: " + what, b.array(), false);
        }

        private JsonNode parse(byte[] file) throws IOException {
            if (!safetensors) {
                return JSON.readTree(file);
            }
            return JSON.readTree(new String(file, 8, (int) headerLength(file), StandardCharsets.UTF_8));
        }

        private byte[] serialize(JsonNode tree) throws IOException {
            return expand(JSON.writeValueAsString(tree)).getBytes(StandardCharsets.UTF_8);
        }

        /** The placeholders replaced by their raw text; later ones may contain earlier ones, so last first. */
        private String expand(String s) {
            for (int i = raw.size() - 1; i >= 0; i--) {
                s = s.replace("\"@@RAW" + i + "@@\"", raw.get(i)).replace("\"@@DUP" + i + "@@\":\"\"", raw.get(i));
            }
            return s;
        }

        /** Changes {@code root} in place; returns what it did. */
        private String mutateTree(JsonNode root) {
            List<List<Object>> slots = new ArrayList<>();
            collect(root, new ArrayList<>(), slots);
            int kind = rnd.nextInt(100);
            if (kind < 6) {                                       // a key of some object appears twice in the text
                List<Object> path = pick(slots, true);
                if (path != null) {
                    ObjectNode parent = (ObjectNode) at(root, path.subList(0, path.size() - 1));
                    String key = (String) path.get(path.size() - 1);
                    JsonNode v = rnd.nextBoolean() ? parent.get(key) : hostile(parent.get(key));
                    raw.add(JSON.valueToTree(key).toString() + ":" + v);
                    parent.set("@@DUP" + (raw.size() - 1) + "@@", TextNode.valueOf(""));
                    return "key " + path + " repeated: " + describe(v);
                }
            }
            if (kind < 16) {                                      // a key added to some object
                List<ObjectNode> objects = new ArrayList<>();
                for (List<Object> p : slots) {
                    if (at(root, p) instanceof ObjectNode o) {
                        objects.add(o);
                    }
                }
                if (root instanceof ObjectNode o) {
                    objects.add(o);
                }
                String[] names = {"bidirectional", "extra", "tokens", "__metadata__", "rnn.weight_ih_l2", "dtype",
                        "embedding.weight", "settings", "input_size", ""};
                String name = names[rnd.nextInt(names.length)];
                JsonNode v = hostile(null);
                objects.get(rnd.nextInt(objects.size())).set(name, v);
                return "key '" + name + "' added: " + describe(v);
            }
            List<Object> path = pick(slots, false);
            JsonNode parent = at(root, path.subList(0, path.size() - 1));
            Object last = path.get(path.size() - 1);
            JsonNode old = at(root, path);
            int op = rnd.nextInt(100);
            if (op < 15) {
                if (parent instanceof ObjectNode o) {
                    o.remove((String) last);
                } else {
                    ((ArrayNode) parent).remove((Integer) last);
                }
                return path + " removed";
            }
            if (op < 27 && parent instanceof ObjectNode o) {
                String key = (String) last;
                String[] renamed = {key + "_", key.toUpperCase(Locale.ROOT), " " + key, key.isEmpty() ? "x" : key.substring(1),
                        key.replace('_', '-'), key + "\u0000", key.replace("l0", "l9"), "weights." + key};
                String to = renamed[rnd.nextInt(renamed.length)];
                JsonNode v = o.remove(key);
                o.set(to, v);
                return path + " renamed to " + JSON.valueToTree(to);
            }
            if (op < 40 && parent instanceof ArrayNode a) {
                int i = (Integer) last;
                int j = rnd.nextInt(a.size());
                if (rnd.nextBoolean()) {
                    JsonNode x = a.get(i);
                    a.set(i, a.get(j));
                    a.set(j, x);
                    return path + " swapped with [" + j + "]";
                }
                a.insert(j, rnd.nextBoolean() ? old.deepCopy() : hostile(old));
                return "inserted at " + path.subList(0, path.size() - 1) + "[" + j + "]";
            }
            JsonNode v = hostile(old);
            if (parent instanceof ObjectNode o) {
                o.set((String) last, v);
            } else {
                ((ArrayNode) parent).set((Integer) last, v);
            }
            return path + " = " + describe(v);
        }

        private String describe(JsonNode v) {
            String s = expand(v.toString());
            return s.length() > 60 ? s.substring(0, 57) + "..." : s;
        }

        /** A random path; with {@code keysOnly}, one ending in an object key (null if there is none). */
        private List<Object> pick(List<List<Object>> slots, boolean keysOnly) {
            List<List<Object>> from = keysOnly ? slots.stream().filter(p -> p.get(p.size() - 1) instanceof String).toList() : slots;
            return from.isEmpty() ? null : from.get(rnd.nextInt(from.size()));
        }

        /** A hostile replacement for {@code old} (null: for a new key). */
        private JsonNode hostile(JsonNode old) {
            int k = rnd.nextInt(10);
            if (k < 3 && old != null && old.isNumber()) {            // near the real value: off by a little or a factor
                long v = old.asLong();
                long[] near = {v + 1, v - 1, v + 4, v - 4, 2 * v, v / 2, -v, v + (1L << 32), v * 1000003};
                return LongNode.valueOf(near[rnd.nextInt(near.length)]);
            }
            if (k < 6) {
                JsonNode[] numbers = {IntNode.valueOf(0), IntNode.valueOf(-1), IntNode.valueOf(1), IntNode.valueOf(2),
                        IntNode.valueOf(3), IntNode.valueOf(4), IntNode.valueOf(6), IntNode.valueOf(256), IntNode.valueOf(257),
                        IntNode.valueOf(65536), IntNode.valueOf(65537), IntNode.valueOf(1 << 24), IntNode.valueOf((1 << 24) + 1),
                        IntNode.valueOf(20000000), IntNode.valueOf(Integer.MAX_VALUE), IntNode.valueOf(Integer.MIN_VALUE),
                        LongNode.valueOf(1L << 31), LongNode.valueOf(1L << 32), LongNode.valueOf(Long.MAX_VALUE),
                        LongNode.valueOf(Long.MIN_VALUE), LongNode.valueOf((1L << 53) + 1),
                        BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(63)), BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(64)),
                        BigIntegerNode.valueOf(BigInteger.TEN.pow(30)), DoubleNode.valueOf(0.0), DoubleNode.valueOf(-0.0),
                        DoubleNode.valueOf(0.5), DoubleNode.valueOf(0.999999), DoubleNode.valueOf(1.0), DoubleNode.valueOf(1.5),
                        DoubleNode.valueOf(2.0), DoubleNode.valueOf(4.0), DoubleNode.valueOf(-1e-9), DoubleNode.valueOf(1e308),
                        DoubleNode.valueOf(-1e308), DoubleNode.valueOf(4.9e-324), DoubleNode.valueOf(2.147483648e9)};
                return numbers[rnd.nextInt(numbers.length)];
            }
            if (k < 8) {
                JsonNode[] others = {TextNode.valueOf(""), TextNode.valueOf("4"), TextNode.valueOf("lstm"),
                        TextNode.valueOf("LSTM "), TextNode.valueOf("gru"), TextNode.valueOf("rnn"), TextNode.valueOf("char"),
                        TextNode.valueOf("word"), TextNode.valueOf("adam"), TextNode.valueOf("sgd"), TextNode.valueOf("F32"),
                        TextNode.valueOf("F16"), TextNode.valueOf("<unk>"), TextNode.valueOf("a"), TextNode.valueOf("\n"),
                        TextNode.valueOf("seqspark-model"), TextNode.valueOf("seqspark-checkpoint"), TextNode.valueOf("\u0000\u2028"),
                        TextNode.valueOf("x".repeat(20_000)), BooleanNode.TRUE, BooleanNode.FALSE, NullNode.instance,
                        JsonNodeFactory.instance.arrayNode(), JsonNodeFactory.instance.arrayNode().add(6).add(3),
                        JsonNodeFactory.instance.arrayNode().add("a"), JsonNodeFactory.instance.objectNode(),
                        JsonNodeFactory.instance.objectNode().put("dtype", "F32")};
                return others[rnd.nextInt(others.length)];
            }
            if (k == 8 && rnd.nextInt(8) == 0) {                      // a long array: more tokens than any vocab_size here
                ArrayNode a = JsonNodeFactory.instance.arrayNode();
                for (int i = 0; i < 2_000; i++) {
                    a.add("t" + i);
                }
                return a;
            }
            String[] texts = {"1e999", "-1e999", "1" + "0".repeat(2000), "NaN", "Infinity", "01", "-", "1.", ".5",
                    "0x10", "\"\\ud800\"", "[".repeat(5_000) + "]".repeat(5_000), "{\"a\":".repeat(3000) + "1" + "}".repeat(3000),
                    "1e-400", "-0", "123456789012345678901234567890"};
            raw.add(texts[rnd.nextInt(texts.length)]);
            return TextNode.valueOf("@@RAW" + (raw.size() - 1) + "@@");
        }
    }

    /** Paths (object keys, array indexes) to every value below {@code node}. */
    private static void collect(JsonNode node, List<Object> path, List<List<Object>> out) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                List<Object> p = new ArrayList<>(path);
                p.add(e.getKey());
                out.add(p);
                collect(e.getValue(), p, out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                List<Object> p = new ArrayList<>(path);
                p.add(i);
                out.add(p);
                collect(node.get(i), p, out);
            }
        }
    }

    private static JsonNode at(JsonNode root, List<Object> path) {
        JsonNode n = root;
        for (Object step : path) {
            n = step instanceof String s ? n.get(s) : n.get((Integer) step);
        }
        return n;
    }

    static long headerLength(byte[] file) {
        return ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    // -------------------------------------------------------------------------------------------- oracles
    // What a valid file is, stated from the format's description (ModelConfig, ModelDir, Checkpoint, Safetensors),
    // not from the readers' code.

    interface TreeOracle {
        boolean valid(JsonNode tree);
    }

    /** A JSON file is valid when it is strict JSON (no duplicate keys, nothing after the value) of a valid tree. */
    static boolean jsonFile(byte[] bytes, TreeOracle oracle) {
        JsonNode tree;
        try {
            tree = STRICT.readTree(bytes);
        } catch (IOException e) {
            return false;
        }
        return tree != null && tree.isObject() && oracle.valid(tree);
    }

    static boolean isText(JsonNode v, String expected) {
        return v != null && v.isTextual() && v.asText().equals(expected);
    }

    static boolean isInt(JsonNode v, long min, long max) {
        return v != null && v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= min && v.asLong() <= max;
    }

    static boolean isInt(JsonNode v, long expected) {
        return isInt(v, expected, expected);
    }

    static boolean absentOrBoolean(JsonNode o, String key) {
        return !o.has(key) || o.get(key).isBoolean();
    }

    /** Case and surrounding blanks do not matter in cell, tokenizer level and optimizer names. */
    static String name(JsonNode v) {
        return v.asText().trim().toLowerCase(Locale.ROOT);
    }

    /** config.json: the layout-defining values must be the model's (else the weights do not fit); the rest in range. */
    static boolean validConfig(JsonNode o) {
        JsonNode tok = o.get("tokenizer");
        JsonNode dropout = o.get("dropout");
        JsonNode bidi = o.get("bidirectional");
        return isText(o.get("format"), "seqspark-model") && isInt(o.get("version"), 1)
                && o.has("cell") && o.get("cell").isTextual() && name(o.get("cell")).equals("lstm")
                && isInt(o.get("vocab_size"), 6) && isInt(o.get("embedding_dim"), 3) && isInt(o.get("hidden_size"), 4)
                && isInt(o.get("num_layers"), 2) && o.has("bias") && o.get("bias").equals(BooleanNode.TRUE)
                && dropout != null && dropout.isNumber() && dropout.asDouble() >= 0 && dropout.asDouble() < 1
                && (!o.has("input_size") || isInt(o.get("input_size"), 3))
                && (bidi == null || bidi.equals(BooleanNode.FALSE))
                && tok != null && tok.isObject() && tok.has("level") && tok.get("level").isTextual()
                && List.of("char", "word").contains(name(tok.get("level")))
                && absentOrBoolean(tok, "lowercase") && absentOrBoolean(tok, "letters_only");
    }

    /** vocab.json: exactly vocab_size distinct non-empty strings, {@code <unk>} first; other keys ignored. */
    static boolean validVocab(JsonNode o) {
        JsonNode t = o.get("tokens");
        if (t == null || !t.isArray() || t.size() != TOKENS.size()) {
            return false;
        }
        Set<String> seen = new HashSet<>();
        for (JsonNode x : t) {
            if (!x.isTextual() || x.asText().isEmpty() || !seen.add(x.asText())) {
                return false;
            }
        }
        return t.get(0).asText().equals(Vocab.UNK);
    }

    /** checkpoint.json: Checkpoint.write's keys in range, the state size Adam needs for this model, no block momentum. */
    static boolean validCheckpoint(JsonNode o) {
        return validCheckpoint(o, SPEC.layout().size());
    }

    /** checkpoint.json of a model of {@code parameters} parameters (Adam's state is twice that). */
    static boolean validCheckpoint(JsonNode o, long parameters) {
        JsonNode s = o.get("settings");
        if (s == null || !s.isObject()) {
            return false;
        }
        for (JsonNode v : s) {
            if (!v.isTextual()) {
                return false;
            }
        }
        String optimizer = s.has("train.optimizer") ? name(s.get("train.optimizer")) : "sgd";
        if (!List.of("sgd", "adam").contains(optimizer)) {
            return false;
        }
        long stateSize = optimizer.equals("adam") ? 2L * parameters : 0;
        return isText(o.get("format"), "seqspark-checkpoint") && isInt(o.get("version"), 1)
                && isInt(o.get("epochs_done"), 0, Integer.MAX_VALUE) && isInt(o.get("optimizer_steps"), 0, 1L << 53)
                && isInt(o.get("optimizer_state_size"), stateSize)
                // BMUF's Δ: absent (older checkpoints) or 0 here, since the fuzzed checkpoint has no block_momentum file.
                && (!o.has("block_momentum_size") || isInt(o.get("block_momentum_size"), 0));
    }

    /**
     * A safetensors file for {@code layout}: a header length that fits, a strict-JSON header object naming
     * exactly the layout's tensors (and maybe __metadata__), each F32 with the layout's shape and a byte range
     * of the right size inside the data, ranges disjoint, and exactly 4 data bytes per float.
     */
    static boolean validSafetensors(byte[] file, ParamLayout layout) {
        if (file.length < 8) {
            return false;
        }
        long n = headerLength(file);
        if (n <= 0 || n > file.length - 8 || n > 16L << 20) {
            return false;
        }
        long dataLen = file.length - 8 - n;
        if (dataLen != 4L * layout.size()) {
            return false;
        }
        JsonNode h;
        try {
            h = STRICT.readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return false;
        }
        if (h == null || !h.isObject()) {
            return false;
        }
        List<long[]> ranges = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Map.Entry<String, JsonNode> e : h.properties()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            if (!layout.contains(e.getKey())) {
                return false;
            }
            ParamLayout.TensorView t = layout.get(e.getKey());
            JsonNode v = e.getValue();
            JsonNode shape = v.get("shape");
            JsonNode offs = v.get("data_offsets");
            if (!v.isObject() || !isText(v.get("dtype"), "F32") || shape == null || !shape.isArray()
                    || shape.size() != t.shape().length || offs == null || !offs.isArray() || offs.size() != 2
                    || !isInt(offs.get(0), 0, dataLen) || !isInt(offs.get(1), 0, dataLen)) {
                return false;
            }
            for (int i = 0; i < shape.size(); i++) {
                if (!isInt(shape.get(i), t.shape()[i])) {
                    return false;
                }
            }
            long begin = offs.get(0).asLong();
            long end = offs.get(1).asLong();
            if (end - begin != 4L * t.size()) {
                return false;
            }
            ranges.add(new long[] {begin, end});
            names.add(e.getKey());
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
                return false;
            }
        }
        return names.size() == layout.tensors().size();
    }

    // ------------------------------------------------------------------------------- named hostile cases

    private static Path copyOfModel(String name) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        for (String f : List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS)) {
            Files.write(dir.resolve(f), original.get(f));
        }
        return dir;
    }

    private static ModelFormatException refused(Path dir) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelDir.read(Location.local(dir), LanguageModelSpec.class));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    /** The issue's example: a 300-byte config.json asking for 20 million layers ended in OutOfMemoryError. */
    @Test
    void twentyMillionLayers() throws IOException {
        Path dir = copyOfModel("layers");
        String cfg = new String(original.get(ModelDir.CONFIG), StandardCharsets.UTF_8).replace("\"num_layers\" : 2",
                "\"num_layers\" : 20000000");
        assertTrue(cfg.contains("20000000") && cfg.length() < 400, cfg);
        Files.writeString(dir.resolve(ModelDir.CONFIG), cfg);
        String msg = refused(dir).getMessage();
        assertTrue(msg.contains("config.json: 'num_layers' must be an integer in [1, 256], found 20000000"), msg);
    }

    /** Within every bound, but 60 billion parameters: refused by arithmetic, no layout built. */
    @Test
    void tooManyParametersForOneArray() throws IOException {
        Path dir = copyOfModel("params");
        String cfg = new String(original.get(ModelDir.CONFIG), StandardCharsets.UTF_8)
                .replace("\"hidden_size\" : 4", "\"hidden_size\" : 65536").replace("\"num_layers\" : 2", "\"num_layers\" : 256");
        Files.writeString(dir.resolve(ModelDir.CONFIG), cfg);
        String msg = refused(dir).getMessage();
        assertTrue(msg.contains("parameters, more than the 2147483639 one float[] holds"), msg);
    }

    /**
     * A config and a weights file that agree, but on more floats than this JVM's heap holds (the file is
     * sparse, so it costs no disk): the one allocation fails, and that is a clear refusal, not a crash.
     */
    @Test
    void consistentButLargerThanTheHeap() throws IOException {
        long heap = Runtime.getRuntime().maxMemory();
        int hidden = (int) Math.ceil(Math.sqrt(heap / 16.0) * 1.1);          // LSTM: about 4·H² parameters
        assumeTrue(hidden <= 23000, "heap too large to exceed with one float[]");
        LanguageModelSpec spec = new LanguageModelSpec(CellType.LSTM, 4, 0, hidden, 1, true, 0);
        assertTrue(4 * spec.parameterCount() > heap);
        Path dir = tmp.resolve("huge");
        Files.createDirectories(dir);
        Files.write(dir.resolve(ModelDir.CONFIG), JSON.writeValueAsBytes(new ModelConfig<>(spec, TokenizerConfig.chars()).toJson()));
        Files.writeString(dir.resolve(ModelDir.VOCAB), "{\"tokens\":[\"<unk>\",\"a\",\"b\",\"c\"]}");
        ObjectNode header = JSON.createObjectNode();
        for (ParamLayout.TensorView t : spec.layout().tensors()) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            ArrayNode shape = e.putArray("shape");
            Arrays.stream(t.shape()).forEach(shape::add);
            e.putArray("data_offsets").add(4L * t.offset()).add(4L * (t.offset() + t.size()));
        }
        byte[] h = JSON.writeValueAsBytes(header);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(ModelDir.WEIGHTS).toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.setLength(8 + h.length + 4 * spec.parameterCount());
        }
        String msg = refused(dir).getMessage();
        assertTrue(msg.contains("weights.safetensors: " + spec.parameterCount() + " parameters need")
                && msg.contains("heap"), msg);
    }

    /** vocab.json with far more tokens than vocab_size: refused at token vocab_size + 1, not after reading them all. */
    @Test
    void vocabularyLongerThanVocabSize() throws IOException {
        Path dir = copyOfModel("longvocab");
        StringBuilder sb = new StringBuilder("{\"tokens\":[\"<unk>\"");
        for (int i = 0; i < 200_000; i++) {
            sb.append(",\"t").append(i).append('"');
        }
        Files.writeString(dir.resolve(ModelDir.VOCAB), sb.append("]}").toString());
        assertTrue(refused(dir).getMessage().contains("vocab.json: has more than 6 tokens, but config.json says vocab_size 6"));
        Files.writeString(dir.resolve(ModelDir.VOCAB), "{\"tokens\":[\"<unk>\",\"a\",\"b\",\"\",\"c\",\"d\"]}");
        assertTrue(refused(dir).getMessage().contains("token 3 is the empty string"));
        Files.writeString(dir.resolve(ModelDir.VOCAB), "{\"tokens\":[\"<unk>\",\"a\",\"b\",\"a\",\"c\",\"d\"]}");
        assertTrue(refused(dir).getMessage().contains("'a' appears twice"));
        Files.writeString(dir.resolve(ModelDir.VOCAB), "{\"tokens\":[\"<unk>\",\"a\",\"b\",7,\"c\",\"d\"]}");
        assertTrue(refused(dir).getMessage().contains("token 3 must be a string, found '7'"));
    }

    /** Files missing, empty or replaced by directories: named in the message, in the model and in the checkpoint. */
    @Test
    void missingEmptyAndMisplacedFiles() throws IOException {
        for (String f : List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS)) {
            Path dir = copyOfModel("missing-" + f);
            Files.delete(dir.resolve(f));
            assertTrue(refused(dir).getMessage().endsWith(f + ": missing"));
            Files.createDirectory(dir.resolve(f));
            assertTrue(refused(dir).getMessage().endsWith(f + ": missing"));
            Files.delete(dir.resolve(f));
            Files.write(dir.resolve(f), new byte[0]);
            assertTrue(refused(dir).getMessage().contains(f + ": "));
        }
        Path ck = tmp.resolve("ck-missing");
        Files.createDirectories(ck);
        for (String f : List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS, Checkpoint.FILE)) {
            Files.write(ck.resolve(f), original.get(f));
        }
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Checkpoint.read(Location.local(ck)));
        assertTrue(e.getMessage().endsWith(Checkpoint.OPTIMIZER + ": missing"), e.getMessage());
        Files.delete(ck.resolve(ModelDir.CONFIG));
        e = assertThrows(ModelFormatException.class, () -> Checkpoint.read(Location.local(ck)));
        assertTrue(e.getMessage().endsWith(ModelDir.CONFIG + ": missing"), e.getMessage());
    }

    /** The parameter count by arithmetic agrees with the layout it predicts, for every cell and shape option. */
    @Test
    void parameterCountMatchesTheLayout() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int i = 0; i < 300; i++) {
            CellType cell = CellType.values()[rnd.nextInt(CellType.values().length)];
            LanguageModelSpec s = new LanguageModelSpec(cell, 1 + rnd.nextInt(50), rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(20),
                    1 + rnd.nextInt(20), 1 + rnd.nextInt(4), rnd.nextBoolean(), 0);
            assertEquals(s.layout().size(), s.parameterCount(), s.toString());
        }
        // The largest sizes a block allows, with the largest int vocabulary and embedding: exact, no overflow.
        int h = NetworkSpec.MAX_WIDTH;
        int l = NetworkSpec.MAX_LAYERS;
        java.math.BigInteger v = java.math.BigInteger.valueOf(Integer.MAX_VALUE);
        java.math.BigInteger gh = java.math.BigInteger.valueOf(4L * h);
        java.math.BigInteger expected = v.multiply(v)                                                  // embedding
                .add(gh.multiply(v).add(gh.multiply(java.math.BigInteger.valueOf(h))))                  // layer 0
                .add(java.math.BigInteger.valueOf(l - 1).multiply(gh.multiply(java.math.BigInteger.valueOf(2L * h))))
                .add(java.math.BigInteger.valueOf(l).multiply(gh.multiply(java.math.BigInteger.TWO)))   // biases
                .add(v.multiply(java.math.BigInteger.valueOf(h)).add(v));                              // head
        assertEquals(expected.longValueExact(), NetworkSpec.parameterCount(Integer.MAX_VALUE, Integer.MAX_VALUE,
                List.of(new RecurrentBlock("rnn", CellType.LSTM, h, l, false, 0, true)), Integer.MAX_VALUE), "no overflow");
    }
}
