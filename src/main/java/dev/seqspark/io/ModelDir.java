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
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.text.Vocab;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A model directory: {@code config.json} ({@link ModelConfig}), {@code vocab.json}
 * ({@code {"tokens": ["<unk>", ...]}}, position = id), {@code weights.safetensors} (F32, PyTorch state_dict
 * names of d2l's RNNModel) and, when trained here, {@code metrics.jsonl} (one JSON object per epoch).
 * Written into a temporary sibling directory and committed ({@link OutputDir}: a rename, or on object stores
 * a commit marker written last), so a reader never sees half a model; read with every file checked against
 * the others. On any Hadoop file system ({@link Location}); the {@link Path} methods are the local disk.
 */
public final class ModelDir {
    public static final String CONFIG = "config.json";
    public static final String VOCAB = "vocab.json";
    public static final String WEIGHTS = "weights.safetensors";
    public static final String METRICS = "metrics.jsonl";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final ObjectMapper JSON_LINE = new ObjectMapper();

    private ModelDir() {}

    /**
     * Writes {@code model} (and {@code metrics}, one object per line, may be empty) to {@code dir}, atomically;
     * with {@code replace}, an existing model directory (or empty folder) there is swapped out, otherwise it
     * is an error; a folder SeqSpark did not write is never replaced ({@link OutputDir}).
     */
    public static void write(Location dir, Model model, List<? extends JsonNode> metrics, boolean replace) throws IOException {
        OutputDir.write(dir, replace, tmp -> writeContents(tmp, model, metrics));
    }

    public static void write(Path dir, Model model, List<? extends JsonNode> metrics, boolean replace) throws IOException {
        write(Location.local(dir), model, metrics, replace);
    }

    /** The files of a model directory, into an existing empty directory. */
    public static void writeContents(Location dir, Model model, List<? extends JsonNode> metrics) throws IOException {
        dir.child(CONFIG).write(JSON.writeValueAsBytes(model.config().toJson()));
        ObjectNode vocab = JSON.createObjectNode();
        ArrayNode toks = vocab.putArray("tokens");
        model.vocab().tokens().forEach(toks::add);
        dir.child(VOCAB).write(JSON_LINE.writeValueAsBytes(vocab));
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
     * Reads and checks a model directory. Nothing in it is trusted: config.json's numbers are bounded (see
     * {@link ModelConfig}), the parameter count they imply is checked against the size of weights.safetensors,
     * and vocab.json's token count against vocab_size, each before anything sized by the config is built or
     * allocated; every problem is a one-line {@link ModelFormatException}. The weights are returned as stored,
     * NaN and infinities included: training (--init, --resume) reads them this way, and reports a diverged
     * run itself. For scoring and generation use {@link #readForInference(Location)}. On a file system
     * without atomic rename only a committed directory is read ({@link OutputDir}); wherever it has a commit
     * marker, a directory replaced while it was being read is refused.
     */
    public static Model read(Location dir) {
        if (!isDir(dir)) {
            throw new ModelFormatException(dir + ": no such model directory");
        }
        String commit = OutputDir.checkCommitted(dir);
        Location cfg = dir.child(CONFIG);
        ModelConfig config = ModelConfig.fromJson(readJson(cfg, MAX_CONFIG_BYTES), cfg.toString());
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
        float[] values = Safetensors.read(weights, config.spec().layout(), CONFIG);
        OutputDir.checkUnchanged(dir, commit);
        return new Model(config, vocab, values);
    }

    public static Model read(Path dir) {
        return read(Location.local(dir));
    }

    /**
     * {@link #read(Path)}, then refuses weights that are NaN or infinite, naming the first such tensor: a
     * diverged or corrupted model would score every record NaN and generate noise without saying why.
     */
    public static Model readForInference(Location dir) {
        Model m = read(dir);
        float[] w = m.weights();
        for (ParamLayout.TensorView t : m.spec().layout().tensors()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                if (!Float.isFinite(w[i])) {
                    throw new ModelFormatException(dir.child(WEIGHTS) + ": tensor '" + t.name() + "' "
                            + Arrays.toString(t.shape()) + " holds " + w[i] + " at flat index " + (i - t.offset())
                            + "; a model with NaN or infinite weights cannot score or generate (it diverged or is corrupted)");
                }
            }
        }
        return m;
    }

    public static Model readForInference(Path dir) {
        return readForInference(Location.local(dir));
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

    public static List<JsonNode> readMetrics(Path dir) {
        return readMetrics(Location.local(dir));
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
    /** vocab.json of the largest vocabulary ({@link ModelSpec#MAX_VOCAB_SIZE} short tokens) fits in this. */
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
        if (!isFile(f)) {
            throw new ModelFormatException(f + ": missing");
        }
        String what = f + ": ";
        try {
            long size = f.length();
            if (size > MAX_VOCAB_BYTES) {
                throw new ModelFormatException(what + "larger than " + (MAX_VOCAB_BYTES >> 20) + " MB, not a SeqSpark vocabulary");
            }
            List<String> tokens = null;
            try (InputStream in = f.open(); JsonParser p = STRICT.createParser(in)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new ModelFormatException(what + "expected {\"tokens\": [...]}");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    boolean isTokens = p.currentName().equals("tokens");
                    JsonToken t = p.nextToken();
                    if (!isTokens) {
                        p.skipChildren();
                        continue;
                    }
                    if (t != JsonToken.START_ARRAY) {
                        throw new ModelFormatException(what + "'tokens' must be an array of strings");
                    }
                    tokens = new ArrayList<>((int) Math.min(vocabSize, size / 4));   // a token takes >= 4 bytes: "x",
                    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                        if (tokens.size() == vocabSize) {
                            throw new ModelFormatException(what + "has more than " + vocabSize + " tokens, but "
                                    + CONFIG + " says vocab_size " + vocabSize);
                        }
                        if (t != JsonToken.VALUE_STRING) {
                            throw new ModelFormatException(what + "token " + tokens.size() + " must be a string, found "
                                    + (t == null ? "the end of the file" : ModelFormatException.quote(p.getText())));
                        }
                        String token = p.getText();
                        if (token.isEmpty()) {
                            throw new ModelFormatException(what + "token " + tokens.size() + " is the empty string, "
                                    + "which no tokenizer produces");
                        }
                        tokens.add(token);
                    }
                }
                if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                    throw new ModelFormatException(what + "expected {\"tokens\": [...]} and nothing after it");
                }
            }
            if (tokens == null) {
                throw new ModelFormatException(what + "expected {\"tokens\": [...]}");
            }
            if (tokens.size() != vocabSize) {
                throw new ModelFormatException(what + "has " + tokens.size() + " tokens, but " + CONFIG
                        + " says vocab_size " + vocabSize);
            }
            return new Vocab(tokens);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(what + "not valid JSON (" + jsonProblem(e) + ")", e);
        } catch (IOException e) {
            throw new ModelFormatException(what + "cannot read (" + e.getMessage() + ")", e);
        } catch (ModelFormatException e) {
            throw e;
        } catch (IllegalArgumentException e) {       // Vocab: <unk> first, no token twice
            throw new ModelFormatException(what + e.getMessage(), e);
        }
    }

}
