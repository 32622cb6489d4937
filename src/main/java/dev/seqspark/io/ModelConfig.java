package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.text.TokenizerConfig;
import java.util.Arrays;

/**
 * {@code config.json} of a model directory: the architecture and the tokenizer.
 * <pre>
 * {"format":"seqspark-model","version":1,"cell":"gru"|"lstm"|"rnn_tanh"|"rnn_relu","vocab_size":V,
 *  "embedding_dim":0|E,"input_size":V|E,"hidden_size":H,"num_layers":L,"bias":true,"dropout":0.0,
 *  "tokenizer":{"level":"char"|"word","lowercase":false,"letters_only":false}}
 * </pre>
 * {@code embedding_dim} 0 means one-hot input. Other keys are allowed and ignored; these mean exactly this. A
 * {@code "task"} key is absent in a language model's config (or {@code "lm"}); {@code "classify"} is a sequence
 * classifier's ({@link ClassifierConfig}), refused here with a message saying so.
 *
 * <p>Limits, checked before anything is sized by them (a config.json is untrusted input):
 * <ul>
 *   <li>the file: at most 1 MB of strict JSON (no duplicate keys, nothing after the object);</li>
 *   <li>{@code version}: 1; {@code format}, {@code cell}, {@code tokenizer.level}: the strings above;</li>
 *   <li>{@code vocab_size}: 1 to 2^24 ({@link ModelSpec#MAX_VOCAB_SIZE});</li>
 *   <li>{@code embedding_dim}: 0 to 2^16, {@code hidden_size}: 1 to 2^16 ({@link ModelSpec#MAX_WIDTH});</li>
 *   <li>{@code num_layers}: 1 to 256 ({@link ModelSpec#MAX_LAYERS});</li>
 *   <li>{@code dropout}: a number in [0, 1); {@code bias}: true or false;</li>
 *   <li>{@code input_size} (optional): as stated above; {@code bidirectional} (optional): false;
 *       {@code tokenizer.lowercase}, {@code tokenizer.letters_only} (optional, default false): true or false;</li>
 *   <li>the parameter count these imply ({@link ModelSpec#parameterCount()}): at most 2^31 − 9
 *       ({@link ModelSpec#MAX_PARAMETERS}), the weights being one float[]; a model directory's
 *       weights.safetensors must then hold exactly 4 bytes per parameter, and vocab.json exactly V tokens.</li>
 * </ul>
 * Integers must be written as integers (4, not 4.0). Anything else is refused with a one-line
 * {@link ModelFormatException} naming the file and the key.
 */
public record ModelConfig(ModelSpec spec, TokenizerConfig tokenizer) implements java.io.Serializable {
    public static final String FORMAT = "seqspark-model";
    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("cell", spec.cell().id);
        o.put("vocab_size", spec.vocabSize());
        o.put("embedding_dim", spec.embeddingDim());
        o.put("input_size", spec.inputSize());
        o.put("hidden_size", spec.hiddenSize());
        o.put("num_layers", spec.numLayers());
        o.put("bias", spec.bias());
        o.put("dropout", spec.dropout());
        ObjectNode t = o.putObject("tokenizer");
        t.put("level", tokenizer.level().id());
        t.put("lowercase", tokenizer.lowercase());
        t.put("letters_only", tokenizer.lettersOnly());
        return o;
    }

    /** Parses and checks a config.json tree; {@code where} names the file in messages. */
    public static ModelConfig fromJson(JsonNode o, String where) {
        if (o == null || !o.isObject()) {
            throw new ModelFormatException(where + ": not a JSON object");
        }
        String format = textField(o, "format", where);
        if (!format.equals(FORMAT)) {
            throw new ModelFormatException(where + ": format is " + ModelFormatException.quote(format)
                    + ", expected '" + FORMAT + "'");
        }
        int version = intField(o, "version", where, 0, Integer.MAX_VALUE);
        if (version != VERSION) {
            throw new ModelFormatException(where + ": version " + version + " is not supported (this build reads " + VERSION + ")");
        }
        String task = task(o, where);
        if (!task.equals(TASK_LM)) {
            throw new ModelFormatException(where + ": a " + task + " model (\"task\": \"" + task
                    + "\"), not a language model; use predict (or the SequenceClassificationModel) with it");
        }
        if (optionalBool(o, "", "bidirectional", where)) {
            throw new ModelFormatException(where + ": bidirectional is set, but a language model is causal");
        }
        String cellId = textField(o, "cell", where);
        CellType cell;
        try {
            cell = CellType.fromId(cellId);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": unknown cell " + ModelFormatException.quote(cellId)
                    + "; expected one of " + Arrays.stream(CellType.values()).map(c -> c.id).toList());
        }
        int vocab = intField(o, "vocab_size", where, 1, ModelSpec.MAX_VOCAB_SIZE);
        int emb = intField(o, "embedding_dim", where, 0, ModelSpec.MAX_WIDTH);
        int hidden = intField(o, "hidden_size", where, 1, ModelSpec.MAX_WIDTH);
        int layers = intField(o, "num_layers", where, 1, ModelSpec.MAX_LAYERS);
        boolean bias = boolField(o, "", "bias", where);
        double dropout = doubleField(o, "dropout", where);
        if (!(dropout >= 0 && dropout < 1)) {
            throw new ModelFormatException(where + ": 'dropout' must be in [0, 1), got " + dropout);
        }
        long params = ModelSpec.parameterCount(cell, vocab, emb, hidden, layers, bias);   // arithmetic only
        if (params > ModelSpec.MAX_PARAMETERS) {
            throw new ModelFormatException(where + ": implies " + params + " parameters, more than the "
                    + ModelSpec.MAX_PARAMETERS + " one float[] holds");
        }
        ModelSpec spec;
        try {
            spec = new ModelSpec(cell, vocab, emb, hidden, layers, bias, dropout);
        } catch (IllegalArgumentException e) {      // the bounds above are ModelSpec's, so only as a backstop
            throw new ModelFormatException(where + ": " + e.getMessage(), e);
        }
        if (o.has("input_size") && intField(o, "input_size", where, 1, Integer.MAX_VALUE) != spec.inputSize()) {
            throw new ModelFormatException(where + ": input_size " + o.get("input_size") + " should be "
                    + spec.inputSize() + (emb > 0 ? " (embedding_dim)" : " (vocab_size, one-hot input)"));
        }
        return new ModelConfig(spec, tokenizer(o, where));
    }

    /** The task a model directory's config.json names: {@code "classify"}, or a language model when absent. */
    public static final String TASK_LM = "lm";
    public static final String TASK_CLASSIFY = "classify";

    /** {@code task} of a config.json tree: absent = {@link #TASK_LM} (every directory from before tasks); else lm or classify. */
    static String task(JsonNode o, String where) {
        if (!o.has("task")) {
            return TASK_LM;
        }
        String t = textField(o, "task", where);
        if (!t.equals(TASK_LM) && !t.equals(TASK_CLASSIFY)) {
            throw new ModelFormatException(where + ": unknown task " + ModelFormatException.quote(t)
                    + "; expected '" + TASK_CLASSIFY + "' or none (a language model)");
        }
        return t;
    }

    /** The {@code tokenizer} object of a config.json tree. */
    static TokenizerConfig tokenizer(JsonNode o, String where) {
        JsonNode t = o.get("tokenizer");
        if (t == null || !t.isObject()) {
            throw new ModelFormatException(where + ": 'tokenizer' must be an object");
        }
        String level = textField(t, "tokenizer.", "level", where);
        TokenizerConfig.Level lv;
        try {
            lv = TokenizerConfig.Level.fromId(level);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": unknown tokenizer.level " + ModelFormatException.quote(level)
                    + "; expected char or word");
        }
        return new TokenizerConfig(lv, optionalBool(t, "tokenizer.", "lowercase", where),
                optionalBool(t, "tokenizer.", "letters_only", where));
    }

    static ObjectNode tokenizerJson(TokenizerConfig tokenizer) {
        ObjectNode t = JSON.createObjectNode();
        t.put("level", tokenizer.level().id());
        t.put("lowercase", tokenizer.lowercase());
        t.put("letters_only", tokenizer.lettersOnly());
        return t;
    }

    /** A short rendering of a value for messages (a hostile file may hold a huge one). */
    static String shown(JsonNode v) {
        String s = v.toString();
        return s.length() > 40 ? s.substring(0, 37) + "..." : s;
    }

    /*
     * The typed getters. {@code key} is looked up in {@code o}; messages name it as {@code where: 'prefix.key'},
     * {@code prefix} naming the nested object ("" at the top level).
     */

    static String textField(JsonNode o, String key, String where) {
        return textField(o, "", key, where);
    }

    static String textField(JsonNode o, String prefix, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual()) {
            throw new ModelFormatException(where + ": '" + prefix + key + "' must be a string, found " + shownOrNone(v));
        }
        return v.asText();
    }

    /** An integer in [min, max]; 4.0, "4", 2^31 and the like are refused with the range in the message. */
    static long longField(JsonNode o, String key, String where, long min, long max) {
        JsonNode v = o.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw new ModelFormatException(where + ": '" + key + "' must be an integer in [" + min + ", " + max
                    + "], found " + shownOrNone(v));
        }
        return v.asLong();
    }

    static int intField(JsonNode o, String key, String where, int min, int max) {
        return (int) longField(o, key, where, min, max);
    }

    static boolean boolField(JsonNode o, String prefix, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isBoolean()) {
            throw new ModelFormatException(where + ": '" + prefix + key + "' must be true or false, found " + shownOrNone(v));
        }
        return v.asBoolean();
    }

    /** A boolean key that may be absent (false). */
    static boolean optionalBool(JsonNode o, String prefix, String key, String where) {
        return o.has(key) && boolField(o, prefix, key, where);
    }

    static double doubleField(JsonNode o, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isNumber()) {
            throw new ModelFormatException(where + ": '" + key + "' must be a number, found " + shownOrNone(v));
        }
        return v.asDouble();
    }

    static String shownOrNone(JsonNode v) {
        return v == null ? "none" : shown(v);
    }
}
