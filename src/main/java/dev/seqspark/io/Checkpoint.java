package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.optim.Optimizers;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A training run's output directory after each epoch: a complete model directory ({@link ModelDir}, always
 * usable) plus what resuming needs — {@code checkpoint.json} (epochs done, optimizer step count, the run's
 * settings) and {@code optimizer.safetensors} (the optimizer's flat state, when it has one). Every random
 * draw derives from the seed and (epoch, shard, batch), and hidden states start from zeros every epoch, so
 * nothing else is needed to continue byte for byte. The whole directory is replaced atomically
 * ({@link OutputDir}), on any Hadoop file system ({@link Location}).
 */
public final class Checkpoint {
    public static final String FILE = "checkpoint.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String BLOCK_MOMENTUM = "block_momentum.safetensors";
    private static final String FORMAT = "seqspark-checkpoint";
    private static final int VERSION = 1;

    /** What resuming needs beyond the model; {@code blockMomentum} is BMUF's Δ (empty for plain averaging). */
    public record State(int epochsDone, long optimizerSteps, float[] optimizerState, float[] blockMomentum,
                        Map<String, String> settings) {}

    private Checkpoint() {}

    public static boolean exists(Location dir) {
        return ModelDir.isFile(dir.child(FILE));
    }

    /** The model directory of {@code model} with {@code metrics}, and what resuming needs, replacing {@code dir}. */
    public static void write(Location dir, Model<?> model, List<? extends JsonNode> metrics, State state) throws IOException {
        OutputDir.write(dir, true, tmp -> {
            ModelDir.writeContents(tmp, model, metrics);
            ObjectNode o = ModelDir.JSON.createObjectNode();
            o.put("format", FORMAT);
            o.put("version", VERSION);
            o.put("epochs_done", state.epochsDone());
            o.put("optimizer_steps", state.optimizerSteps());
            o.put("optimizer_state_size", state.optimizerState().length);
            o.put("block_momentum_size", state.blockMomentum().length);
            o.put("random_state", "derived from train.seed and (epoch, shard, batch); nothing to restore");
            ObjectNode s = o.putObject("settings");
            new TreeMap<>(state.settings()).forEach(s::put);
            tmp.child(FILE).write(ModelDir.JSON.writeValueAsBytes(o));
            if (state.optimizerState().length > 0) {
                Safetensors.write(tmp.child(OPTIMIZER), layout(state.optimizerState().length), state.optimizerState(),
                        Map.of("format", "seqspark-optimizer"));
            }
            if (state.blockMomentum().length > 0) {
                Safetensors.write(tmp.child(BLOCK_MOMENTUM), momentumLayout(state.blockMomentum().length),
                        state.blockMomentum(), Map.of("format", "seqspark-block-momentum"));
            }
        });
    }

    private static ParamLayout momentumLayout(int n) {
        ParamLayout l = new ParamLayout();
        l.add("block_momentum", n);
        return l;
    }

    private static ParamLayout layout(int n) {
        ParamLayout l = new ParamLayout();
        l.add("optimizer_state", n);
        return l;
    }

    /** Largest optimizer_steps: beyond 2^53 a step count is no longer exact in the double Adam computes with. */
    public static final long MAX_OPTIMIZER_STEPS = 1L << 53;

    /**
     * Reads and checks what resuming needs, as untrusted input: checkpoint.json must be the strict JSON
     * {@link #write} writes (format, version 1, epochs_done in [0, 2^31 − 1], optimizer_steps in
     * [0, 2^53], settings of strings); optimizer_state_size must be exactly the state of the optimizer the
     * settings name (train.optimizer, {@link Optimizers#DEFAULT} when absent) for the parameter count the
     * directory's config.json implies, and optimizer.safetensors must hold exactly that, all checked before
     * the state is allocated. Every problem is a one-line {@link ModelFormatException} naming the file and key.
     * Only a committed checkpoint, where the file system needs a marker for that.
     */
    public static State read(Location dir) {
        Location f = dir.child(FILE);
        String where = f.toString();
        String commit = ModelDir.isDir(dir) ? OutputDir.checkCommitted(dir) : null;
        JsonNode o = ModelDir.readJson(f, ModelDir.MAX_CONFIG_BYTES);
        if (!o.isObject()) {
            throw new ModelFormatException(where + ": not a JSON object");
        }
        JsonNode format = o.get("format");
        if (format == null || !format.isTextual() || !format.asText().equals(FORMAT)) {
            throw new ModelFormatException(where + ": not a SeqSpark checkpoint ('format' should be '" + FORMAT + "')");
        }
        int version = ModelConfig.intField(o, "version", where, 0, Integer.MAX_VALUE);
        if (version != VERSION) {
            throw new ModelFormatException(where + ": version " + version + " is not supported (this build reads " + VERSION + ")");
        }
        int epochs = ModelConfig.intField(o, "epochs_done", where, 0, Integer.MAX_VALUE);
        long steps = ModelConfig.longField(o, "optimizer_steps", where, 0, MAX_OPTIMIZER_STEPS);
        int n = ModelConfig.intField(o, "optimizer_state_size", where, 0, NetworkSpec.MAX_PARAMETERS);
        JsonNode s = o.get("settings");
        if (s == null || !s.isObject()) {
            throw new ModelFormatException(where + ": 'settings' must be an object of strings");
        }
        Map<String, String> settings = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : s.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(where + ": settings." + ModelFormatException.quote(e.getKey())
                        + " must be a string, found " + ModelConfig.shown(e.getValue()));
            }
            settings.put(e.getKey(), e.getValue().asText());
        }
        String optimizer = settings.getOrDefault("train.optimizer", Optimizers.DEFAULT);
        if (!Optimizers.isKnown(optimizer)) {
            throw new ModelFormatException(where + ": settings.'train.optimizer' is " + ModelFormatException.quote(optimizer)
                    + "; expected one of " + Optimizers.NAMES);
        }
        // The state's size follows from the model: its config gives the parameter count by arithmetic alone.
        Location cfg = dir.child(ModelDir.CONFIG);
        long params = ModelConfig.fromJson(ModelDir.readJson(cfg, ModelDir.MAX_CONFIG_BYTES), cfg.toString()).spec()
                .parameterCount();
        long expected = Optimizers.stateCopies(optimizer) * params;
        if (n != expected) {
            throw new ModelFormatException(where + ": optimizer_state_size is " + n + ", but " + optimizer + " keeps "
                    + Optimizers.stateCopies(optimizer) + " value(s) per parameter and " + ModelDir.CONFIG + " implies "
                    + params + " parameters (" + expected + ")");
        }
        float[] opt = n == 0 ? new float[0] : Safetensors.read(requireFile(dir.child(OPTIMIZER)), layout(n),
                FILE + "'s optimizer_state_size");
        // BMUF's Δ: none (plain averaging, or a checkpoint from before BMUF) or exactly one value per parameter.
        int m = o.has("block_momentum_size")
                ? ModelConfig.intField(o, "block_momentum_size", where, 0, NetworkSpec.MAX_PARAMETERS) : 0;
        if (m != 0 && m != params) {
            throw new ModelFormatException(where + ": block_momentum_size is " + m + ", but " + ModelDir.CONFIG
                    + " implies " + params + " parameters (it must be 0 or that)");
        }
        float[] delta = m == 0 ? new float[0] : Safetensors.read(requireFile(dir.child(BLOCK_MOMENTUM)),
                momentumLayout(m), FILE + "'s block_momentum_size");
        OutputDir.checkUnchanged(dir, commit);
        return new State(epochs, steps, opt, delta, settings);
    }

    private static Location requireFile(Location f) {
        if (!ModelDir.isFile(f)) {
            throw new ModelFormatException(f + ": missing");
        }
        return f;
    }
}
