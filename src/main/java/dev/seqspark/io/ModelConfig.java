package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.model.RecurrentBlock;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Pooling;
import dev.seqspark.text.TokenizerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code config.json} of a model directory: the architecture, the tokenizer and (classifiers) the truncation length.
 * A language model's:
 * <pre>
 * {"format":"seqspark-model","version":1,"cell":"gru"|"lstm"|"rnn_tanh"|"rnn_relu","vocab_size":V,
 *  "embedding_dim":0|E,"input_size":V|E,"hidden_size":H,"num_layers":L,"bias":true,"dropout":0.0,
 *  "tokenizer":{"level":"char"|"word","lowercase":false,"letters_only":false}}
 * </pre>
 * a sequence classifier's ({@code "task": "classify"}):
 * <pre>
 * {"format":"seqspark-model","version":1,"task":"classify","vocab_size":V,"embedding_dim":0|E,
 *  "blocks":[{"name":"lstm","cell":"lstm","input_size":I,"hidden_size":H,"num_layers":L,"bidirectional":false,
 *             "bias":true,"dropout":0.0}, ...],
 *  "pooling":"last"|"mean"|"max","num_classes":C,"max_length":0|N,
 *  "tokenizer":{"level":"char"|"word","lowercase":false,"letters_only":false}}
 * </pre>
 * {@code embedding_dim} 0 means one-hot input; {@code "task"} absent (or {@code "lm"}) means a language model. Other
 * keys are allowed and ignored; these mean exactly this.
 *
 * <p>Limits, checked before anything is sized by them (a config.json is untrusted input):
 * <ul>
 *   <li>the file: at most 1 MB of strict JSON (no duplicate keys, nothing after the object);</li>
 *   <li>{@code version}: 1; {@code format}, {@code cell}, {@code tokenizer.level}, {@code pooling}: the strings above;</li>
 *   <li>{@code vocab_size}: 1 to 2^24 ({@link NetworkSpec#MAX_VOCAB_SIZE});</li>
 *   <li>{@code embedding_dim}: 0 to 2^16, {@code hidden_size}: 1 to 2^16 ({@link NetworkSpec#MAX_WIDTH});</li>
 *   <li>{@code num_layers}: 1 to 256 ({@link NetworkSpec#MAX_LAYERS});</li>
 *   <li>{@code dropout}: a number in [0, 1); {@code bias}: true or false;</li>
 *   <li>a language model: {@code input_size} (optional) as stated above; {@code bidirectional} (optional): false;</li>
 *   <li>a classifier: 1 to 16 blocks, each with a unique identifier {@code name} (not {@code embedding} or
 *       {@code fc}) and optionally {@code bidirectional} (default false), {@code bias} (default true), {@code dropout}
 *       (default 0) and {@code input_size} (if given, the width the previous block implies); num_classes 2 to 2^16;
 *       max_length (optional, default 0 = no limit) 0 to 2^31 − 1;</li>
 *   <li>{@code tokenizer.lowercase}, {@code tokenizer.letters_only} (optional, default false): true or false;</li>
 *   <li>the parameter count these imply ({@link NetworkSpec#parameterCount()}): at most 2^31 − 9
 *       ({@link NetworkSpec#MAX_PARAMETERS}), the weights being one float[]; a model directory's
 *       weights.safetensors must then hold exactly 4 bytes per parameter, and vocab.json exactly V tokens.</li>
 * </ul>
 * Integers must be written as integers (4, not 4.0). Anything else is refused with a one-line
 * {@link ModelFormatException} naming the file and the key.
 *
 * @param maxLength a classifier's records are cut to their first maxLength tokens before training and prediction
 *                  (0: never; always 0 for a language model)
 */
public record ModelConfig<S extends NetworkSpec>(S spec, TokenizerConfig tokenizer, int maxLength)
        implements java.io.Serializable {
    public static final String FORMAT = "seqspark-model";
    public static final int VERSION = 1;
    /** The task a model directory's config.json names: {@code "classify"}, or a language model when absent. */
    public static final String TASK_LM = "lm";
    public static final String TASK_CLASSIFY = "classify";
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelConfig {
        if (spec == null || tokenizer == null) {
            throw new IllegalArgumentException("a model config needs a spec and a tokenizer");
        }
        if (maxLength < 0 || (maxLength > 0 && !(spec instanceof ClassifierSpec))) {
            throw new IllegalArgumentException("max_length must be 0 (no limit) or, for a classifier, positive; got " + maxLength);
        }
    }

    /** A config without truncation (every language model's). */
    public ModelConfig(S spec, TokenizerConfig tokenizer) {
        this(spec, tokenizer, 0);
    }

    /** {@link #TASK_LM} or {@link #TASK_CLASSIFY}. */
    public String task() {
        return spec instanceof ClassifierSpec ? TASK_CLASSIFY : TASK_LM;
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        if (spec instanceof LanguageModelSpec lm) {
            o.put("cell", lm.cell().id);
            o.put("vocab_size", lm.vocabSize());
            o.put("embedding_dim", lm.embeddingDim());
            o.put("input_size", lm.inputSize());
            o.put("hidden_size", lm.hiddenSize());
            o.put("num_layers", lm.numLayers());
            o.put("bias", lm.bias());
            o.put("dropout", lm.dropout());
        } else {
            ClassifierSpec c = (ClassifierSpec) spec;
            o.put("task", TASK_CLASSIFY);
            o.put("vocab_size", c.vocabSize());
            o.put("embedding_dim", c.embeddingDim());
            ArrayNode blocks = o.putArray("blocks");
            for (int i = 0; i < c.blocks().size(); i++) {
                RecurrentBlock b = c.blocks().get(i);
                ObjectNode j = blocks.addObject();
                j.put("name", b.name());
                j.put("cell", b.cell().id);
                j.put("input_size", c.blockInputSize(i));
                j.put("hidden_size", b.hiddenSize());
                j.put("num_layers", b.numLayers());
                j.put("bidirectional", b.bidirectional());
                j.put("bias", b.bias());
                j.put("dropout", b.dropout());
            }
            o.put("pooling", c.pooling().id);
            o.put("num_classes", c.numClasses());
            o.put("max_length", maxLength);
        }
        ObjectNode t = o.putObject("tokenizer");
        t.put("level", tokenizer.level().id());
        t.put("lowercase", tokenizer.lowercase());
        t.put("letters_only", tokenizer.lettersOnly());
        return o;
    }

    /** Parses and checks a config.json tree of either task; {@code where} names the file in messages. */
    public static ModelConfig<?> fromJson(JsonNode o, String where) {
        return header(o, where).equals(TASK_CLASSIFY) ? classifier(o, where) : languageModel(o, where);
    }

    /** As {@link #fromJson(JsonNode, String)}, refusing a model of the other task with a message that says which to use. */
    @SuppressWarnings("unchecked")
    public static <S extends NetworkSpec> ModelConfig<S> fromJson(JsonNode o, String where, Class<S> kind) {
        String task = header(o, where);
        boolean classify = task.equals(TASK_CLASSIFY);
        if (classify != (kind == ClassifierSpec.class)) {
            throw new ModelFormatException(where + (classify
                    ? ": a " + task + " model (\"task\": \"" + task
                            + "\"), not a language model; use predict (or the SequenceClassificationModel) with it"
                    : ": a language model (no \"task\": \"classify\"), not a classifier; use score or generate with it"));
        }
        return (ModelConfig<S>) (classify ? classifier(o, where) : languageModel(o, where));
    }

    /** Checks what every config.json starts with (an object, format, version) and returns its task. */
    private static String header(JsonNode o, String where) {
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
        return task(o, where);
    }

    private static ModelConfig<LanguageModelSpec> languageModel(JsonNode o, String where) {
        if (optionalBool(o, "", "bidirectional", where)) {
            throw new ModelFormatException(where + ": bidirectional is set, but a language model is causal");
        }
        CellType cell = cell(o, "", where);
        int vocab = intField(o, "vocab_size", where, 1, NetworkSpec.MAX_VOCAB_SIZE);
        int emb = intField(o, "embedding_dim", where, 0, NetworkSpec.MAX_WIDTH);
        int hidden = intField(o, "hidden_size", where, 1, NetworkSpec.MAX_WIDTH);
        int layers = intField(o, "num_layers", where, 1, NetworkSpec.MAX_LAYERS);
        boolean bias = boolField(o, "", "bias", where);
        double dropout = doubleField(o, "dropout", where);
        if (!(dropout >= 0 && dropout < 1)) {
            throw new ModelFormatException(where + ": 'dropout' must be in [0, 1), got " + dropout);
        }
        long params = NetworkSpec.parameterCount(vocab, emb, List.of(new RecurrentBlock("rnn", cell, hidden, layers, false, 0,
                bias)), vocab);   // arithmetic only
        LanguageModelSpec spec = built(params, () -> new LanguageModelSpec(cell, vocab, emb, hidden, layers, bias, dropout),
                where);
        if (o.has("input_size") && intField(o, "input_size", where, 1, Integer.MAX_VALUE) != spec.inputSize()) {
            throw new ModelFormatException(where + ": input_size " + o.get("input_size") + " should be "
                    + spec.inputSize() + (emb > 0 ? " (embedding_dim)" : " (vocab_size, one-hot input)"));
        }
        return new ModelConfig<>(spec, tokenizer(o, where));
    }

    private static ModelConfig<ClassifierSpec> classifier(JsonNode o, String where) {
        int vocab = intField(o, "vocab_size", where, 1, NetworkSpec.MAX_VOCAB_SIZE);
        int emb = intField(o, "embedding_dim", where, 0, NetworkSpec.MAX_WIDTH);
        JsonNode bs = o.get("blocks");
        if (bs == null || !bs.isArray() || bs.isEmpty() || bs.size() > ClassifierSpec.MAX_BLOCKS) {
            throw new ModelFormatException(where + ": 'blocks' must be an array of 1 to " + ClassifierSpec.MAX_BLOCKS
                    + " block objects, found " + shownOrNone(bs));
        }
        List<RecurrentBlock> blocks = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long width = emb > 0 ? emb : vocab;
        for (int i = 0; i < bs.size(); i++) {
            JsonNode b = bs.get(i);
            String key = "blocks[" + i + "]";
            if (!b.isObject()) {
                throw new ModelFormatException(where + ": '" + key + "' must be an object, found " + shown(b));
            }
            String p = key + ".";
            String name = textField(b, p, "name", where);
            CellType cell = cell(b, p, where);
            int hidden = intField(b, p, "hidden_size", where, 1, NetworkSpec.MAX_WIDTH);
            int layers = intField(b, p, "num_layers", where, 1, NetworkSpec.MAX_LAYERS);
            boolean bi = optionalBool(b, p, "bidirectional", where);
            boolean bias = !b.has("bias") || boolField(b, p, "bias", where);
            double dropout = 0;
            if (b.has("dropout")) {
                JsonNode d = b.get("dropout");
                if (!d.isNumber() || !(d.asDouble() >= 0 && d.asDouble() < 1)) {
                    throw new ModelFormatException(where + ": '" + p + "dropout' must be a number in [0, 1), found "
                            + shown(d));
                }
                dropout = d.asDouble();
            }
            if (b.has("input_size") && intField(b, p, "input_size", where, 1, Integer.MAX_VALUE) != width) {
                throw new ModelFormatException(where + ": " + p + "input_size " + shown(b.get("input_size"))
                        + " should be " + width + (i == 0 ? (emb > 0 ? " (embedding_dim)" : " (vocab_size, one-hot input)")
                        : " (the output width of blocks[" + (i - 1) + "])"));
            }
            if (!names.add(name)) {
                throw new ModelFormatException(where + ": two blocks are named " + ModelFormatException.quote(name));
            }
            try {
                blocks.add(new RecurrentBlock(name, cell, hidden, layers, bi, dropout, bias));
            } catch (IllegalArgumentException e) {     // the name: the only check not made above
                throw new ModelFormatException(where + ": " + p + "name: " + e.getMessage(), e);
            }
            width = (long) (bi ? 2 : 1) * hidden;
        }
        String poolingId = textField(o, "pooling", where);
        Pooling pooling;
        try {
            pooling = Pooling.fromId(poolingId);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": unknown pooling " + ModelFormatException.quote(poolingId)
                    + "; expected last, mean or max");
        }
        int classes = intField(o, "num_classes", where, 2, ClassifierSpec.MAX_CLASSES);
        int maxLength = o.has("max_length") ? intField(o, "max_length", where, 0, Integer.MAX_VALUE) : 0;
        long params = NetworkSpec.parameterCount(vocab, emb, blocks, classes);   // arithmetic only
        return new ModelConfig<>(built(params, () -> new ClassifierSpec(vocab, emb, blocks, pooling, classes), where),
                tokenizer(o, where), maxLength);
    }

    /** {@code prefix + "cell"} of a config.json tree. */
    private static CellType cell(JsonNode o, String prefix, String where) {
        String id = textField(o, prefix, "cell", where);
        try {
            return CellType.fromId(id);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": unknown " + prefix + "cell " + ModelFormatException.quote(id)
                    + "; expected one of " + Arrays.stream(CellType.values()).map(c -> c.id).toList());
        }
    }

    /**
     * The spec the checked fields describe, once their parameter count (by arithmetic) fits one float[]; the spec's
     * own checks are the fields' bounds above, so its refusal is only a backstop.
     */
    private static <S extends NetworkSpec> S built(long params, java.util.function.Supplier<S> spec, String where) {
        if (params > NetworkSpec.MAX_PARAMETERS) {
            throw new ModelFormatException(where + ": implies " + params + " parameters, more than the "
                    + NetworkSpec.MAX_PARAMETERS + " one float[] holds");
        }
        try {
            return spec.get();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": " + e.getMessage(), e);
        }
    }

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
        return longField(o, "", key, where, min, max);
    }

    static long longField(JsonNode o, String prefix, String key, String where, long min, long max) {
        JsonNode v = o.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw new ModelFormatException(where + ": '" + prefix + key + "' must be an integer in [" + min + ", " + max
                    + "], found " + shownOrNone(v));
        }
        return v.asLong();
    }

    static int intField(JsonNode o, String key, String where, int min, int max) {
        return (int) longField(o, "", key, where, min, max);
    }

    static int intField(JsonNode o, String prefix, String key, String where, int min, int max) {
        return (int) longField(o, prefix, key, where, min, max);
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
