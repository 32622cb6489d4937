package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ClassifierSpec;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.nn.Pooling;
import dev.seqspark.text.TokenizerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code config.json} of a sequence classifier's model directory ({@code "task": "classify"}): the architecture
 * ({@link ClassifierSpec}), the tokenizer and the truncation length.
 * <pre>
 * {"format":"seqspark-model","version":1,"task":"classify","vocab_size":V,"embedding_dim":0|E,
 *  "blocks":[{"name":"lstm","cell":"lstm","input_size":I,"hidden_size":H,"num_layers":L,"bidirectional":false,
 *             "bias":true,"dropout":0.0}, ...],
 *  "pooling":"last"|"mean"|"max","num_classes":C,"max_length":0|N,
 *  "tokenizer":{"level":"char"|"word","lowercase":false,"letters_only":false}}
 * </pre>
 * Limits, checked before anything is sized by them (untrusted input, as {@link ModelConfig}): the file at most
 * 1 MB of strict JSON; vocab_size 1 to 2^24; embedding_dim 0 to 2^16; 1 to 16 blocks, each with a unique
 * identifier {@code name} (not {@code embedding} or {@code fc}), a known {@code cell}, hidden_size 1 to 2^16,
 * num_layers 1 to 256, and optionally {@code bidirectional} (default false), {@code bias} (default true),
 * {@code dropout} in [0, 1) (default 0) and {@code input_size} (if given, the width the previous block implies);
 * pooling one of the three; num_classes 2 to 2^16; max_length (optional, default 0 = no limit) 0 to 2^31 − 1;
 * the parameter count at most 2^31 − 9. Integers as integers. Anything else is a one-line
 * {@link ModelFormatException} naming the file and the key.
 *
 * @param maxLength records are cut to their first maxLength tokens before training and prediction (0: never)
 */
public record ClassifierConfig(ClassifierSpec spec, TokenizerConfig tokenizer, int maxLength)
        implements java.io.Serializable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ClassifierConfig {
        if (spec == null || tokenizer == null) {
            throw new IllegalArgumentException("a classifier config needs a spec and a tokenizer");
        }
        if (maxLength < 0) {
            throw new IllegalArgumentException("max_length must be 0 (no limit) or positive, got " + maxLength);
        }
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", ModelConfig.FORMAT);
        o.put("version", ModelConfig.VERSION);
        o.put("task", ModelConfig.TASK_CLASSIFY);
        o.put("vocab_size", spec.vocabSize());
        o.put("embedding_dim", spec.embeddingDim());
        ArrayNode blocks = o.putArray("blocks");
        for (int i = 0; i < spec.blocks().size(); i++) {
            ClassifierSpec.Block b = spec.blocks().get(i);
            ObjectNode j = blocks.addObject();
            j.put("name", b.name());
            j.put("cell", b.cell().id);
            j.put("input_size", spec.blockInputSize(i));
            j.put("hidden_size", b.hiddenSize());
            j.put("num_layers", b.numLayers());
            j.put("bidirectional", b.bidirectional());
            j.put("bias", b.bias());
            j.put("dropout", b.dropout());
        }
        o.put("pooling", spec.pooling().id);
        o.put("num_classes", spec.numClasses());
        o.put("max_length", maxLength);
        o.set("tokenizer", ModelConfig.tokenizerJson(tokenizer));
        return o;
    }

    /** Parses and checks a classifier's config.json tree; {@code where} names the file in messages. */
    public static ClassifierConfig fromJson(JsonNode o, String where) {
        if (o == null || !o.isObject()) {
            throw new ModelFormatException(where + ": not a JSON object");
        }
        String format = ModelConfig.textField(o, "format", where);
        if (!format.equals(ModelConfig.FORMAT)) {
            throw new ModelFormatException(where + ": format is " + ModelFormatException.quote(format)
                    + ", expected '" + ModelConfig.FORMAT + "'");
        }
        int version = ModelConfig.intField(o, "version", where, 0, Integer.MAX_VALUE);
        if (version != ModelConfig.VERSION) {
            throw new ModelFormatException(where + ": version " + version + " is not supported (this build reads "
                    + ModelConfig.VERSION + ")");
        }
        String task = ModelConfig.task(o, where);
        if (!task.equals(ModelConfig.TASK_CLASSIFY)) {
            throw new ModelFormatException(where + ": a language model (no \"task\": \"classify\"), not a classifier; "
                    + "use score or generate with it");
        }
        int vocab = ModelConfig.intField(o, "vocab_size", where, 1, ModelSpec.MAX_VOCAB_SIZE);
        int emb = ModelConfig.intField(o, "embedding_dim", where, 0, ModelSpec.MAX_WIDTH);
        JsonNode bs = o.get("blocks");
        if (bs == null || !bs.isArray() || bs.isEmpty() || bs.size() > ClassifierSpec.MAX_BLOCKS) {
            throw new ModelFormatException(where + ": 'blocks' must be an array of 1 to " + ClassifierSpec.MAX_BLOCKS
                    + " block objects, found " + ModelConfig.shownOrNone(bs));
        }
        List<ClassifierSpec.Block> blocks = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long width = emb > 0 ? emb : vocab;
        for (int i = 0; i < bs.size(); i++) {
            JsonNode b = bs.get(i);
            String key = "blocks[" + i + "]";
            if (!b.isObject()) {
                throw new ModelFormatException(where + ": '" + key + "' must be an object, found " + ModelConfig.shown(b));
            }
            String p = key + ".";
            String name = ModelConfig.textField(b, p, "name", where);
            String cellId = ModelConfig.textField(b, p, "cell", where);
            CellType cell;
            try {
                cell = CellType.fromId(cellId);
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(where + ": unknown " + p + "cell " + ModelFormatException.quote(cellId)
                        + "; expected one of " + Arrays.stream(CellType.values()).map(c -> c.id).toList());
            }
            int hidden = blockInt(b, p, "hidden_size", where, 1, ModelSpec.MAX_WIDTH);
            int layers = blockInt(b, p, "num_layers", where, 1, ModelSpec.MAX_LAYERS);
            boolean bi = ModelConfig.optionalBool(b, p, "bidirectional", where);
            boolean bias = !b.has("bias") || ModelConfig.boolField(b, p, "bias", where);
            double dropout = 0;
            if (b.has("dropout")) {
                JsonNode d = b.get("dropout");
                if (!d.isNumber() || !(d.asDouble() >= 0 && d.asDouble() < 1)) {
                    throw new ModelFormatException(where + ": '" + p + "dropout' must be a number in [0, 1), found "
                            + ModelConfig.shown(d));
                }
                dropout = d.asDouble();
            }
            if (b.has("input_size") && blockInt(b, p, "input_size", where, 1, Integer.MAX_VALUE) != width) {
                throw new ModelFormatException(where + ": " + p + "input_size " + ModelConfig.shown(b.get("input_size"))
                        + " should be " + width + (i == 0 ? (emb > 0 ? " (embedding_dim)" : " (vocab_size, one-hot input)")
                        : " (the output width of blocks[" + (i - 1) + "])"));
            }
            if (!names.add(name)) {
                throw new ModelFormatException(where + ": two blocks are named " + ModelFormatException.quote(name));
            }
            try {
                blocks.add(new ClassifierSpec.Block(name, cell, hidden, layers, bi, dropout, bias));
            } catch (IllegalArgumentException e) {     // the name: the only check not made above
                throw new ModelFormatException(where + ": " + p + "name: " + e.getMessage(), e);
            }
            width = (long) (bi ? 2 : 1) * hidden;
        }
        String poolingId = ModelConfig.textField(o, "pooling", where);
        Pooling pooling;
        try {
            pooling = Pooling.fromId(poolingId);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": unknown pooling " + ModelFormatException.quote(poolingId)
                    + "; expected last, mean or max");
        }
        int classes = ModelConfig.intField(o, "num_classes", where, 2, ClassifierSpec.MAX_CLASSES);
        int maxLength = o.has("max_length") ? ModelConfig.intField(o, "max_length", where, 0, Integer.MAX_VALUE) : 0;
        long params = ClassifierSpec.parameterCount(vocab, emb, blocks, classes);   // arithmetic only
        if (params > ModelSpec.MAX_PARAMETERS) {
            throw new ModelFormatException(where + ": implies " + params + " parameters, more than the "
                    + ModelSpec.MAX_PARAMETERS + " one float[] holds");
        }
        ClassifierSpec spec;
        try {
            spec = new ClassifierSpec(vocab, emb, blocks, pooling, classes);
        } catch (IllegalArgumentException e) {    // every bound above is the spec's: only as a backstop
            throw new ModelFormatException(where + ": " + e.getMessage(), e);
        }
        return new ClassifierConfig(spec, ModelConfig.tokenizer(o, where), maxLength);
    }

    private static int blockInt(JsonNode b, String prefix, String key, String where, int min, int max) {
        JsonNode v = b.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw new ModelFormatException(where + ": '" + prefix + key + "' must be an integer in [" + min + ", " + max
                    + "], found " + ModelConfig.shownOrNone(v));
        }
        return (int) v.asLong();
    }
}
