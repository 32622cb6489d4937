package dev.seqspark.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.text.Vocab;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model directory, of either task: {@code config.json} ({@link ModelConfig}), {@code vocab.json}
 * ({@code {"tokens": ["<unk>", ...]}}, position = id), {@code weights.safetensors} (F32, the PyTorch module's
 * state_dict names: d2l's RNNModel's, or the classifier's {@code embedding.weight}, {@code lstm.weight_ih_l0}, …,
 * {@code fc.weight}, {@code fc.bias}), a classifier's {@code labels.json} ({@code {"labels": [name of class 0, …]}})
 * and, when trained here, {@code metrics.jsonl} (one JSON object per epoch). Written into a temporary sibling
 * directory and committed ({@link OutputDir}: a rename, or on object stores a commit marker written last), so a
 * reader never sees half a model; read with every file checked against the others, on any Hadoop file system
 * ({@link Location}).
 */
public final class ModelDir {
    public static final String CONFIG = "config.json";
    public static final String VOCAB = "vocab.json";
    public static final String WEIGHTS = "weights.safetensors";
    public static final String METRICS = "metrics.jsonl";
    public static final String LABELS = "labels.json";
    /** A label name is a short string; longer ones are not ours. */
    static final int MAX_LABEL_CHARS = 1000;
    static final long MAX_LABELS_BYTES = 16L << 20;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final ObjectMapper JSON_LINE = new ObjectMapper();

    private ModelDir() {}

    /**
     * Writes {@code model} (and {@code metrics}, one object per line, may be empty) to {@code dir}, atomically;
     * with {@code replace}, an existing model directory (or empty folder) there is swapped out, otherwise it
     * is an error; a folder SeqSpark did not write is never replaced ({@link OutputDir}).
     */
    public static void write(Location dir, Model<?> model, List<? extends JsonNode> metrics, boolean replace) throws IOException {
        OutputDir.write(dir, replace, tmp -> writeContents(tmp, model, metrics));
    }

    /** The files of a model directory, into an existing empty directory. */
    public static void writeContents(Location dir, Model<?> model, List<? extends JsonNode> metrics) throws IOException {
        dir.child(CONFIG).write(JSON.writeValueAsBytes(model.config().toJson()));
        ObjectNode vocab = JSON.createObjectNode();
        ArrayNode toks = vocab.putArray("tokens");
        model.vocab().tokens().forEach(toks::add);
        dir.child(VOCAB).write(JSON_LINE.writeValueAsBytes(vocab));
        if (model.spec() instanceof ClassifierSpec) {
            ObjectNode labels = JSON.createObjectNode();
            ArrayNode names = labels.putArray("labels");
            model.labels().forEach(names::add);
            dir.child(LABELS).write(JSON_LINE.writeValueAsBytes(labels));
        }
        Safetensors.write(dir.child(WEIGHTS), model.spec().layout(), model.weights(), Map.of("format", "pt"));
        if (metrics != null && !metrics.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode m : metrics) {
                sb.append(JSON_LINE.writeValueAsString(m)).append('\n');
            }
            dir.child(METRICS).write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Reads and checks a model directory of either task. Nothing in it is trusted: config.json's numbers are bounded
     * (see {@link ModelConfig}), the parameter count they imply is checked against the size of weights.safetensors,
     * and vocab.json's (labels.json's) count against vocab_size (num_classes), each before anything sized by the
     * config is built or allocated; every problem is a one-line {@link ModelFormatException}. The weights are
     * returned as stored, NaN and infinities included: training (--init, --resume) reads them this way, and reports
     * a diverged run itself. For scoring, prediction and generation use {@link #readForInference}. On a file system
     * without atomic rename only a committed directory is read ({@link OutputDir}); wherever it has a commit
     * marker, a directory replaced while it was being read is refused.
     */
    public static Model<?> read(Location dir) {
        return read(dir, null);
    }

    /** As {@link #read(Location)}, a model of the task {@code kind} names ({@code LanguageModelSpec.class}, …) only. */
    @SuppressWarnings("unchecked")
    public static <S extends NetworkSpec> Model<S> read(Location dir, Class<S> kind) {
        if (!isDir(dir)) {
            throw new ModelFormatException(dir + ": no such model directory");
        }
        String commit = OutputDir.checkCommitted(dir);
        Location cfg = dir.child(CONFIG);
        JsonNode json = readJson(cfg, MAX_CONFIG_BYTES);
        ModelConfig<S> config = kind == null ? (ModelConfig<S>) ModelConfig.fromJson(json, cfg.toString())
                : ModelConfig.fromJson(json, cfg.toString(), kind);
        Location weights = dir.child(WEIGHTS);
        if (!isFile(weights)) {
            throw new ModelFormatException(weights + ": missing");
        }
        long params = config.spec().parameterCount();        // arithmetic only: no layout yet
        long data = Safetensors.dataBytes(weights);          // the header length and the file size, nothing more
        if (data != 4 * params) {
            throw new ModelFormatException(weights + ": holds " + data + " bytes of tensor data, but " + CONFIG
                    + " implies " + params + " F32 parameters (" + 4 * params + " bytes): "
                    + (data < 4 * params ? "a truncated file, or " : "") + "a config that does not match the weights");
        }
        Vocab vocab = readVocab(dir.child(VOCAB), config.spec().vocabSize());
        List<String> labels = config.spec() instanceof ClassifierSpec c
                ? readLabels(dir.child(LABELS), c.numClasses()) : List.of();
        float[] values = Safetensors.read(weights, config.spec().layout(), CONFIG);
        OutputDir.checkUnchanged(dir, commit);
        return new Model<>(config, vocab, labels, values);
    }

    /**
     * {@link #read(Location, Class)}, then refuses weights that are NaN or infinite, naming the first such tensor: a
     * diverged or corrupted model would score every record NaN and generate noise without saying why.
     */
    public static <S extends NetworkSpec> Model<S> readForInference(Location dir, Class<S> kind) {
        Model<S> m = read(dir, kind);
        float[] w = m.weights();
        for (ParamLayout.TensorView t : m.spec().layout().tensors()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                if (!Float.isFinite(w[i])) {
                    throw new ModelFormatException(dir.child(WEIGHTS) + ": tensor '" + t.name() + "' "
                            + Arrays.toString(t.shape()) + " holds " + w[i] + " at flat index " + (i - t.offset())
                            + "; a model with NaN or infinite weights cannot " + (m.spec() instanceof ClassifierSpec
                            ? "predict" : "score or generate") + " (it diverged or is corrupted)");
                }
            }
        }
        return m;
    }

    /** The task of the model directory {@code dir} from its config.json: {@link ModelConfig#TASK_LM} or TASK_CLASSIFY. */
    public static String task(Location dir) {
        Location cfg = dir.child(CONFIG);
        JsonNode o = readJson(cfg, MAX_CONFIG_BYTES);
        if (o == null || !o.isObject()) {
            throw new ModelFormatException(cfg + ": not a JSON object");
        }
        return ModelConfig.task(o, cfg.toString());
    }

    /** The metrics lines of a model directory (empty when it has none). */
    public static List<JsonNode> readMetrics(Location dir) {
        Location f = dir.child(METRICS);
        List<JsonNode> out = new ArrayList<>();
        try {
            if (!f.exists()) {
                return out;
            }
            try (BufferedReader r = new BufferedReader(new InputStreamReader(f.open(),
                    StandardCharsets.UTF_8.newDecoder()))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (!line.isBlank()) {
                        out.add(JSON_LINE.readTree(line));
                    }
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(f + ": unreadable (" + e.getMessage() + ")", e);
        }
        return out;
    }

    /** A directory (an unreadable location counts as none: the message names it the same way). */
    static boolean isDir(Location dir) {
        try {
            return dir.isDirectory();
        } catch (IOException e) {
            throw new ModelFormatException(dir + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    static boolean isFile(Location f) {
        try {
            return f.isFile();
        } catch (IOException e) {
            throw new ModelFormatException(f + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** config.json and checkpoint.json are a few hundred bytes; a megabyte is not ours. */
    static final long MAX_CONFIG_BYTES = 1L << 20;
    /** vocab.json of the largest vocabulary ({@link NetworkSpec#MAX_VOCAB_SIZE} short tokens) fits in this. */
    static final long MAX_VOCAB_BYTES = 64L << 20;

    /** Strict JSON for untrusted files: a duplicate key or anything after the value is an error, not a guess. */
    static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Jackson's description of a parse error and where it is, without its note on the redacted source. */
    static String jsonProblem(JsonProcessingException e) {
        String msg = String.valueOf(e.getOriginalMessage())
                .replace("[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); ", "[");
        return e.getLocation() == null ? msg
                : msg + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    /** The JSON tree of a small file of at most {@code maxBytes}. */
    static JsonNode readJson(Location f, long maxBytes) {
        if (!isFile(f)) {
            throw new ModelFormatException(f + ": missing");
        }
        try {
            byte[] bytes = f.length() > maxBytes ? null : f.readAtMost(maxBytes);
            if (bytes == null || bytes.length > maxBytes) {
                throw new ModelFormatException(f + ": larger than " + (maxBytes >> 10) + " KB, not a SeqSpark model file");
            }
            return STRICT.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(f + ": not valid JSON (" + jsonProblem(e) + ")", e);
        } catch (IOException e) {
            throw new ModelFormatException(f + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * vocab.json, streamed: it must hold exactly {@code vocabSize} tokens, and at no point are more strings
     * kept than that, however large the file or its array.
     */
    static Vocab readVocab(Location f, int vocabSize) {
        List<String> tokens = readStrings(f, "tokens", "token", vocabSize, "vocab_size", MAX_VOCAB_BYTES,
                "a SeqSpark vocabulary", (i, t) -> t.isEmpty() ? "token " + i + " is the empty string, which no "
                        + "tokenizer produces" : null);
        try {
            return new Vocab(tokens);
        } catch (IllegalArgumentException e) {       // Vocab: <unk> first, no token twice
            throw new ModelFormatException(f + ": " + e.getMessage(), e);
        }
    }

    /**
     * labels.json, streamed: exactly {@code classes} distinct non-empty strings of at most 1000 characters, and
     * never more strings kept than that, however large the file.
     */
    static List<String> readLabels(Location f, int classes) {
        Set<String> seen = new HashSet<>();
        return readStrings(f, "labels", "label", classes, "num_classes", MAX_LABELS_BYTES, "a SeqSpark label list",
                (i, l) -> l.isEmpty() || l.length() > MAX_LABEL_CHARS
                        ? "label " + i + " must have 1 to " + MAX_LABEL_CHARS + " characters, found " + l.length()
                        : !seen.add(l) ? "label " + ModelFormatException.quote(l) + " appears twice" : null);
    }

    /** What is wrong with string {@code i} of a list (null: nothing). */
    private interface StringCheck {
        String problem(int i, String s);
    }

    /**
     * {@code {"KEY": [string, …]}} from {@code f}, streamed and strict: exactly {@code count} strings (the config's
     * {@code countKey}), each passing {@code check}, in a file of at most {@code maxBytes}; never more strings kept
     * than {@code count}, however large the file. Every problem is a one-line {@link ModelFormatException}.
     */
    private static List<String> readStrings(Location f, String key, String item, int count, String countKey,
                                            long maxBytes, String kind, StringCheck check) {
        if (!isFile(f)) {
            throw new ModelFormatException(f + ": missing");
        }
        String what = f + ": ";
        String shape = "{\"" + key + "\": [...]}";
        try {
            long size = f.length();
            if (size > maxBytes) {
                throw new ModelFormatException(what + "larger than " + (maxBytes >> 20) + " MB, not " + kind);
            }
            List<String> out = null;
            try (InputStream in = f.open(); JsonParser p = STRICT.createParser(in)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new ModelFormatException(what + "expected " + shape);
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    boolean isKey = p.currentName().equals(key);
                    JsonToken t = p.nextToken();
                    if (!isKey) {
                        p.skipChildren();
                        continue;
                    }
                    if (t != JsonToken.START_ARRAY) {
                        throw new ModelFormatException(what + "'" + key + "' must be an array of strings");
                    }
                    out = new ArrayList<>((int) Math.min(count, size / 4));   // a string takes >= 4 bytes: "x",
                    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                        if (out.size() == count) {
                            throw new ModelFormatException(what + "has more than " + count + " " + key + ", but " + CONFIG
                                    + " says " + countKey + " " + count);
                        }
                        if (t != JsonToken.VALUE_STRING) {
                            throw new ModelFormatException(what + item + " " + out.size() + " must be a string, found "
                                    + (t == null ? "the end of the file" : ModelFormatException.quote(p.getText())));
                        }
                        String problem = check.problem(out.size(), p.getText());
                        if (problem != null) {
                            throw new ModelFormatException(what + problem);
                        }
                        out.add(p.getText());
                    }
                }
                if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                    throw new ModelFormatException(what + "expected " + shape + " and nothing after it");
                }
            }
            if (out == null) {
                throw new ModelFormatException(what + "expected " + shape);
            }
            if (out.size() != count) {
                throw new ModelFormatException(what + "has " + out.size() + " " + key + ", but " + CONFIG + " says "
                        + countKey + " " + count);
            }
            return out;
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(what + "not valid JSON (" + jsonProblem(e) + ")", e);
        } catch (IOException e) {
            throw new ModelFormatException(what + "cannot read (" + e.getMessage() + ")", e);
        }
    }
}
