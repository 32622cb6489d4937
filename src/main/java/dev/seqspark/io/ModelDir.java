package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.text.Vocab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model directory: {@code config.json} ({@link ModelConfig}), {@code vocab.json}
 * ({@code {"tokens": ["<unk>", ...]}}, position = id), {@code weights.safetensors} (F32, PyTorch state_dict
 * names of d2l's RNNModel) and, when trained here, {@code metrics.jsonl} (one JSON object per epoch).
 * Written into a temporary sibling directory and renamed into place, so a reader never sees half a model;
 * read with every file checked against the others.
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
    public static void write(Path dir, Model model, List<? extends JsonNode> metrics, boolean replace) throws IOException {
        OutputDir.write(dir, replace, tmp -> writeContents(tmp, model, metrics));
    }

    /** The files of a model directory, into an existing empty directory. */
    public static void writeContents(Path dir, Model model, List<? extends JsonNode> metrics) throws IOException {
        Files.write(dir.resolve(CONFIG), JSON.writeValueAsBytes(model.config().toJson()));
        ObjectNode vocab = JSON.createObjectNode();
        ArrayNode toks = vocab.putArray("tokens");
        model.vocab().tokens().forEach(toks::add);
        Files.write(dir.resolve(VOCAB), JSON_LINE.writeValueAsBytes(vocab));
        Safetensors.write(dir.resolve(WEIGHTS), model.spec().layout(), model.weights(), Map.of("format", "pt"));
        if (metrics != null && !metrics.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode m : metrics) {
                sb.append(JSON_LINE.writeValueAsString(m)).append('\n');
            }
            Files.writeString(dir.resolve(METRICS), sb.toString(), StandardCharsets.UTF_8);
        }
    }

    /** Reads and checks a model directory. */
    public static Model read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir + ": no such model directory");
        }
        ModelConfig config = ModelConfig.fromJson(readJson(dir.resolve(CONFIG)), dir.resolve(CONFIG).toString());
        Vocab vocab = readVocab(dir.resolve(VOCAB));
        if (vocab.size() != config.spec().vocabSize()) {
            throw new ModelFormatException(dir.resolve(VOCAB) + ": has " + vocab.size() + " tokens, but "
                    + CONFIG + " says vocab_size " + config.spec().vocabSize());
        }
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new ModelFormatException(weights + ": missing");
        }
        float[] values = Safetensors.read(weights, config.spec().layout());
        return new Model(config, vocab, values);
    }

    /** The metrics lines of a model directory (empty when it has none). */
    public static List<JsonNode> readMetrics(Path dir) {
        Path f = dir.resolve(METRICS);
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(f)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(JSON_LINE.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(f + ": unreadable (" + e.getMessage() + ")", e);
        }
        return out;
    }

    static JsonNode readJson(Path f) {
        if (!Files.isRegularFile(f)) {
            throw new ModelFormatException(f + ": missing");
        }
        try {
            if (Files.size(f) > (64L << 20)) {
                throw new ModelFormatException(f + ": larger than 64 MB, not a SeqSpark model file");
            }
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(f + ": not valid JSON (" + e.getMessage().split("\n")[0] + ")", e);
        }
    }

    static Vocab readVocab(Path f) {
        JsonNode o = readJson(f);
        JsonNode toks = o.path("tokens");
        if (!toks.isArray()) {
            throw new ModelFormatException(f + ": expected {\"tokens\": [...]}");
        }
        List<String> list = new ArrayList<>(toks.size());
        for (JsonNode t : toks) {
            if (!t.isTextual()) {
                throw new ModelFormatException(f + ": every token must be a string, found " + t);
            }
            list.add(t.asText());
        }
        try {
            return new Vocab(list);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f + ": " + e.getMessage(), e);
        }
    }

}
