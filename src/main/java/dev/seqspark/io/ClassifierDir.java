package dev.seqspark.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.text.Vocab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sequence classifier's model directory: {@code config.json} ({@link ClassifierConfig}, with
 * {@code "task": "classify"}), {@code vocab.json} and {@code weights.safetensors} as a language model's
 * ({@link ModelDir}; tensors named as the PyTorch module's state_dict: {@code embedding.weight},
 * {@code lstm.weight_ih_l0}, …, {@code fc.weight}, {@code fc.bias}), {@code labels.json}
 * ({@code {"labels": [name of class 0, …]}}) and, when trained here, {@code metrics.jsonl}. Written atomically
 * through {@link OutputDir}; read with every file checked against the others, as hardened as {@link ModelDir}.
 */
public final class ClassifierDir {
    public static final String LABELS = "labels.json";
    /** A label name is a short string; longer ones are not ours. */
    static final int MAX_LABEL_CHARS = 1000;
    static final long MAX_LABELS_BYTES = 16L << 20;

    private ClassifierDir() {}

    /** The task of the model directory {@code dir} from its config.json: {@link ModelConfig#TASK_LM} or TASK_CLASSIFY. */
    public static String task(Location dir) {
        Location cfg = dir.child(ModelDir.CONFIG);
        JsonNode o = ModelDir.readJson(cfg, ModelDir.MAX_CONFIG_BYTES);
        if (o == null || !o.isObject()) {
            throw new ModelFormatException(cfg + ": not a JSON object");
        }
        return ModelConfig.task(o, cfg.toString());
    }

    /** Parameters a config.json tree implies, whatever its task, by arithmetic alone (for checkpoints). */
    static long parameterCount(JsonNode config, String where) {
        if (config != null && config.isObject() && ModelConfig.task(config, where).equals(ModelConfig.TASK_CLASSIFY)) {
            return ClassifierConfig.fromJson(config, where).spec().parameterCount();
        }
        return ModelConfig.fromJson(config, where).spec().parameterCount();
    }

    public static String task(Path dir) {
        return task(Location.local(dir));
    }

    public static void write(Location dir, ClassifierModel model, List<? extends JsonNode> metrics, boolean replace)
            throws IOException {
        OutputDir.write(dir, replace, tmp -> writeContents(tmp, model, metrics));
    }

    public static void write(Path dir, ClassifierModel model, List<? extends JsonNode> metrics, boolean replace)
            throws IOException {
        write(Location.local(dir), model, metrics, replace);
    }

    /** The files of a classifier's model directory, into an existing empty directory. */
    public static void writeContents(Location dir, ClassifierModel model, List<? extends JsonNode> metrics) throws IOException {
        dir.child(ModelDir.CONFIG).write(ModelDir.JSON.writeValueAsBytes(model.config().toJson()));
        ObjectNode vocab = ModelDir.JSON.createObjectNode();
        ArrayNode toks = vocab.putArray("tokens");
        model.vocab().tokens().forEach(toks::add);
        dir.child(ModelDir.VOCAB).write(ModelDir.JSON_LINE.writeValueAsBytes(vocab));
        ObjectNode labels = ModelDir.JSON.createObjectNode();
        ArrayNode names = labels.putArray("labels");
        model.labels().forEach(names::add);
        dir.child(LABELS).write(ModelDir.JSON_LINE.writeValueAsBytes(labels));
        Safetensors.write(dir.child(ModelDir.WEIGHTS), model.spec().layout(), model.weights(), Map.of("format", "pt"));
        if (metrics != null && !metrics.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode m : metrics) {
                sb.append(ModelDir.JSON_LINE.writeValueAsString(m)).append('\n');
            }
            dir.child(ModelDir.METRICS).write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Reads and checks a classifier's model directory, nothing in it trusted: config.json bounded
     * ({@link ClassifierConfig}), the parameter count it implies checked against the size of weights.safetensors,
     * vocab.json's and labels.json's counts against vocab_size and num_classes, each before anything sized by the
     * config is allocated; every problem a one-line {@link ModelFormatException}. Weights as stored (NaN included:
     * resuming reads them so); for prediction use {@link #readForInference}.
     */
    public static ClassifierModel read(Location dir) {
        if (!ModelDir.isDir(dir)) {
            throw new ModelFormatException(dir + ": no such model directory");
        }
        String commit = OutputDir.checkCommitted(dir);
        Location cfg = dir.child(ModelDir.CONFIG);
        ClassifierConfig config = ClassifierConfig.fromJson(ModelDir.readJson(cfg, ModelDir.MAX_CONFIG_BYTES), cfg.toString());
        Location weights = dir.child(ModelDir.WEIGHTS);
        if (!ModelDir.isFile(weights)) {
            throw new ModelFormatException(weights + ": missing");
        }
        long params = config.spec().parameterCount();
        long data = Safetensors.dataBytes(weights);
        if (data != 4 * params) {
            throw new ModelFormatException(weights + ": holds " + data + " bytes of tensor data, but " + ModelDir.CONFIG
                    + " implies " + params + " F32 parameters (" + 4 * params + " bytes): "
                    + (data < 4 * params ? "a truncated file, or " : "") + "a config that does not match the weights");
        }
        Vocab vocab = ModelDir.readVocab(dir.child(ModelDir.VOCAB), config.spec().vocabSize());
        List<String> labels = readLabels(dir.child(LABELS), config.spec().numClasses());
        float[] values = Safetensors.read(weights, config.spec().layout(), ModelDir.CONFIG);
        OutputDir.checkUnchanged(dir, commit);
        return new ClassifierModel(config, vocab, labels, values);
    }

    public static ClassifierModel read(Path dir) {
        return read(Location.local(dir));
    }

    /** {@link #read}, then refuses NaN or infinite weights, naming the first such tensor. */
    public static ClassifierModel readForInference(Path dir) {
        return readForInference(Location.local(dir));
    }

    public static ClassifierModel readForInference(Location dir) {
        ClassifierModel m = read(dir);
        float[] w = m.weights();
        for (ParamLayout.TensorView t : m.spec().layout().tensors()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                if (!Float.isFinite(w[i])) {
                    throw new ModelFormatException(dir.child(ModelDir.WEIGHTS) + ": tensor '" + t.name() + "' "
                            + Arrays.toString(t.shape()) + " holds " + w[i] + " at flat index " + (i - t.offset())
                            + "; a model with NaN or infinite weights cannot predict (it diverged or is corrupted)");
                }
            }
        }
        return m;
    }

    /**
     * labels.json, streamed: exactly {@code classes} distinct non-empty strings of at most 1000 characters, and
     * never more strings kept than that, however large the file.
     */
    static List<String> readLabels(Location f, int classes) {
        if (!ModelDir.isFile(f)) {
            throw new ModelFormatException(f + ": missing");
        }
        String what = f + ": ";
        try {
            if (f.length() > MAX_LABELS_BYTES) {
                throw new ModelFormatException(what + "larger than " + (MAX_LABELS_BYTES >> 20) + " MB, not a SeqSpark label list");
            }
            List<String> labels = null;
            Set<String> seen = new HashSet<>();
            try (java.io.InputStream in = f.open(); JsonParser p = ModelDir.STRICT.createParser(in)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new ModelFormatException(what + "expected {\"labels\": [...]}");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    boolean isLabels = p.currentName().equals("labels");
                    JsonToken t = p.nextToken();
                    if (!isLabels) {
                        p.skipChildren();
                        continue;
                    }
                    if (t != JsonToken.START_ARRAY) {
                        throw new ModelFormatException(what + "'labels' must be an array of strings");
                    }
                    labels = new ArrayList<>();
                    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                        if (labels.size() == classes) {
                            throw new ModelFormatException(what + "has more than " + classes + " labels, but "
                                    + ModelDir.CONFIG + " says num_classes " + classes);
                        }
                        if (t != JsonToken.VALUE_STRING) {
                            throw new ModelFormatException(what + "label " + labels.size() + " must be a string, found "
                                    + (t == null ? "the end of the file" : ModelFormatException.quote(p.getText())));
                        }
                        String label = p.getText();
                        if (label.isEmpty() || label.length() > MAX_LABEL_CHARS) {
                            throw new ModelFormatException(what + "label " + labels.size() + " must have 1 to "
                                    + MAX_LABEL_CHARS + " characters, found " + label.length());
                        }
                        if (!seen.add(label)) {
                            throw new ModelFormatException(what + "label " + ModelFormatException.quote(label) + " appears twice");
                        }
                        labels.add(label);
                    }
                }
                if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                    throw new ModelFormatException(what + "expected {\"labels\": [...]} and nothing after it");
                }
            }
            if (labels == null) {
                throw new ModelFormatException(what + "expected {\"labels\": [...]}");
            }
            if (labels.size() != classes) {
                throw new ModelFormatException(what + "has " + labels.size() + " labels, but " + ModelDir.CONFIG
                        + " says num_classes " + classes);
            }
            return labels;
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(what + "not valid JSON (" + ModelDir.jsonProblem(e) + ")", e);
        } catch (IOException e) {
            throw new ModelFormatException(what + "cannot read (" + e.getMessage() + ")", e);
        }
    }
}
