package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.text.TokenizerConfig;

/**
 * {@code config.json} of a model directory: the architecture and the tokenizer.
 * <pre>
 * {"format":"seqspark-model","version":1,"cell":"gru"|"lstm"|"rnn_tanh"|"rnn_relu","vocab_size":V,
 *  "embedding_dim":0|E,"input_size":V|E,"hidden_size":H,"num_layers":L,"bias":true,"dropout":0.0,
 *  "tokenizer":{"level":"char"|"word","lowercase":false,"letters_only":false}}
 * </pre>
 * {@code embedding_dim} 0 means one-hot input. Other keys are allowed and ignored; these mean exactly this.
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
        String format = o.path("format").asText("");
        if (!format.equals(FORMAT)) {
            throw new ModelFormatException(where + ": format is '" + format + "', expected '" + FORMAT + "'");
        }
        int version = intField(o, "version", where);
        if (version != VERSION) {
            throw new ModelFormatException(where + ": version " + version + " is not supported (this build reads " + VERSION + ")");
        }
        if (o.path("bidirectional").asBoolean(false)) {
            throw new ModelFormatException(where + ": bidirectional is set, but a language model is causal");
        }
        try {
            CellType cell = CellType.fromId(textField(o, "cell", where));
            int vocab = intField(o, "vocab_size", where);
            int emb = intField(o, "embedding_dim", where);
            ModelSpec spec = new ModelSpec(cell, vocab, emb, intField(o, "hidden_size", where),
                    intField(o, "num_layers", where), boolField(o, "bias", where), doubleField(o, "dropout", where));
            if (o.has("input_size") && intField(o, "input_size", where) != spec.inputSize()) {
                throw new ModelFormatException(where + ": input_size " + o.get("input_size") + " should be "
                        + spec.inputSize() + (emb > 0 ? " (embedding_dim)" : " (vocab_size, one-hot input)"));
            }
            JsonNode t = o.path("tokenizer");
            if (!t.isObject()) {
                throw new ModelFormatException(where + ": 'tokenizer' must be an object");
            }
            TokenizerConfig tok = new TokenizerConfig(TokenizerConfig.Level.fromId(textField(t, "level", where)),
                    t.path("lowercase").asBoolean(false), t.path("letters_only").asBoolean(false));
            return new ModelConfig(spec, tok);
        } catch (ModelFormatException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": " + e.getMessage(), e);
        }
    }

    private static String textField(JsonNode o, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual()) {
            throw new ModelFormatException(where + ": '" + key + "' must be a string");
        }
        return v.asText();
    }

    private static int intField(JsonNode o, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new ModelFormatException(where + ": '" + key + "' must be an integer");
        }
        return v.asInt();
    }

    private static boolean boolField(JsonNode o, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isBoolean()) {
            throw new ModelFormatException(where + ": '" + key + "' must be true or false");
        }
        return v.asBoolean();
    }

    private static double doubleField(JsonNode o, String key, String where) {
        JsonNode v = o.get(key);
        if (v == null || !v.isNumber()) {
            throw new ModelFormatException(where + ": '" + key + "' must be a number");
        }
        return v.asDouble();
    }
}
