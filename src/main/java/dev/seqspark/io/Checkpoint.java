package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.ParamLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A training run's output directory after each epoch: a complete model directory ({@link ModelDir}, always
 * usable) plus what resuming needs — {@code checkpoint.json} (epochs done, optimizer step count, the run's
 * settings) and {@code optimizer.safetensors} (the optimizer's flat state, when it has one). Every random
 * draw derives from the seed and (epoch, shard, batch), and hidden states start from zeros every epoch, so
 * nothing else is needed to continue byte for byte. The whole directory is replaced atomically.
 */
public final class Checkpoint {
    public static final String FILE = "checkpoint.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    private static final String FORMAT = "seqspark-checkpoint";

    /** What resuming needs beyond the model. */
    public record State(int epochsDone, long optimizerSteps, float[] optimizerState, Map<String, String> settings) {}

    private Checkpoint() {}

    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    public static void write(Path dir, Model model, List<? extends JsonNode> metrics, State state) throws IOException {
        ModelDir.writeAtomically(dir, true, tmp -> {
            ModelDir.writeContents(tmp, model, metrics);
            ObjectNode o = ModelDir.JSON.createObjectNode();
            o.put("format", FORMAT);
            o.put("version", 1);
            o.put("epochs_done", state.epochsDone());
            o.put("optimizer_steps", state.optimizerSteps());
            o.put("optimizer_state_size", state.optimizerState().length);
            o.put("random_state", "derived from train.seed and (epoch, shard, batch); nothing to restore");
            ObjectNode s = o.putObject("settings");
            new TreeMap<>(state.settings()).forEach(s::put);
            Files.write(tmp.resolve(FILE), ModelDir.JSON.writeValueAsBytes(o));
            if (state.optimizerState().length > 0) {
                Safetensors.write(tmp.resolve(OPTIMIZER), layout(state.optimizerState().length), state.optimizerState(),
                        Map.of("format", "seqspark-optimizer"));
            }
        });
    }

    private static ParamLayout layout(int n) {
        ParamLayout l = new ParamLayout();
        l.add("optimizer_state", n);
        return l;
    }

    public static State read(Path dir) {
        Path f = dir.resolve(FILE);
        JsonNode o = ModelDir.readJson(f, ModelDir.MAX_CONFIG_BYTES);
        if (!FORMAT.equals(o.path("format").asText())) {
            throw new ModelFormatException(f + ": not a SeqSpark checkpoint");
        }
        int n = o.path("optimizer_state_size").asInt(-1);
        if (n < 0) {
            throw new ModelFormatException(f + ": optimizer_state_size missing");
        }
        float[] opt = n == 0 ? new float[0] : Safetensors.read(dir.resolve(OPTIMIZER), layout(n));
        Map<String, String> settings = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.path("settings").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            settings.put(e.getKey(), e.getValue().asText());
        }
        return new State(o.path("epochs_done").asInt(), o.path("optimizer_steps").asLong(), opt, settings);
    }
}
