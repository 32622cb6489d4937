package dev.seqspark.cli;

import dev.seqspark.io.Location;
import dev.seqspark.optim.Optimizers;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The settings of a training job: every key, its default and what it means. A config file (Java properties,
 * {@code key = value}) overrides the defaults, {@code --set key=value} overrides both; an unknown key or an
 * invalid value is an error naming it. conf/*.properties are examples with every key documented.
 */
public final class Settings {

    /** One key: its default, what values it takes, and what it means. */
    public record Key(String name, String defaultValue, String values, String meaning, Predicate<String> valid) {}

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private static void key(String name, String def, String values, String meaning, Predicate<String> valid) {
        KEYS.put(name, new Key(name, def, values, meaning, valid));
    }

    private static boolean isBool(String v) {
        return v.equals("true") || v.equals("false");
    }

    private static boolean isInt(String v, long min) {
        try {
            return Long.parseLong(v) >= min && Long.parseLong(v) <= Integer.MAX_VALUE;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isLong(String v) {
        try {
            Long.parseLong(v);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isNumber(String v, double min, double maxExclusive) {
        try {
            double d = Double.parseDouble(v);
            return d >= min && d < maxExclusive;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    static {
        key("data.path", "data/tom_sawyer.txt", "a path", "the corpus: any Hadoop-FS path (file, folder, glob); "
                + "relative paths are tried from the current directory, then from the SeqSpark directory", v -> !v.isBlank());
        key("data.tokenizer.level", "char", "char | word", "tokens are Unicode code points, or whitespace-separated words",
                v -> v.equals("char") || v.equals("word"));
        key("data.tokenizer.lowercase", "false", "true | false", "lower-case the text first", Settings::isBool);
        key("data.tokenizer.letters_only", "false", "true | false",
                "d2l's cleaning: runs of non-letters become one space, empty lines vanish, lines joined by spaces",
                Settings::isBool);
        key("data.min_freq", "0", "integer >= 0", "tokens rarer than this map to <unk>", v -> isInt(v, 0));
        key("data.max_vocab", "0", "0 | integer >= 2", "keep at most this many tokens (<unk> included), the most "
                + "frequent (torchtext's max_tokens); the rest map to <unk>; 0 = no limit", v -> v.equals("0") || isInt(v, 2));
        key("data.valid_fraction", "0.1", "[0, 1)", "the last fraction of the token stream, never trained on; 0 = none",
                v -> isNumber(v, 0, 1));
        key("data.partitioning", "sequential", "sequential | random",
                "d2l's seq_data_iter_sequential (state carried) or seq_data_iter_random (state reset per batch)",
                v -> v.equals("sequential") || v.equals("random"));
        key("data.offset", "random", "random | integer >= 0",
                "where an epoch's layout starts: drawn per epoch and shard from the seed, as d2l does, or fixed",
                v -> v.equals("random") || isInt(v, 0));
        key("model.cell", "gru", "rnn_tanh | rnn_relu | gru | lstm", "the recurrent cell",
                v -> List.of("rnn_tanh", "rnn_relu", "gru", "lstm", "rnn").contains(v));
        key("model.hidden_size", "256", "integer >= 1", "features of the hidden state", v -> isInt(v, 1));
        key("model.num_layers", "1", "integer >= 1", "stacked recurrent layers", v -> isInt(v, 1));
        key("model.dropout", "0.0", "[0, 1)", "dropout between stacked layers (training only)", v -> isNumber(v, 0, 1));
        key("model.embedding_dim", "0", "integer >= 0", "0: one-hot input (d2l); E: a learned embedding of width E",
                v -> isInt(v, 0));
        key("train.batch_size", "32", "integer >= 1", "sequences per minibatch (per worker)", v -> isInt(v, 1));
        key("train.num_steps", "35", "integer >= 1", "time steps per minibatch (truncated backprop through time)",
                v -> isInt(v, 1));
        key("train.epochs", "10", "integer >= 1", "passes over the training stream", v -> isInt(v, 1));
        key("train.optimizer", Optimizers.DEFAULT, "sgd | adam", "torch.optim.SGD or torch.optim.Adam (default betas)",
                v -> v.equals("sgd") || v.equals("adam"));
        key("train.lr", "1.0", "number > 0", "learning rate", v -> isNumber(v, Double.MIN_VALUE, Double.POSITIVE_INFINITY));
        key("train.clip", "1.0", "number >= 0", "max global gradient norm (clip_grad_norm_); 0 = no clipping",
                v -> isNumber(v, 0, Double.POSITIVE_INFINITY));
        key("train.seed", "0", "integer", "seed of the initial weights, layouts and dropout", Settings::isLong);
        key("dist.workers", "0", "integer >= 0", "W, shards trained in parallel; 0 = Spark's default parallelism",
                v -> isInt(v, 0));
        key("dist.sync_every", "auto", "auto | integer >= 0",
                "combine the workers' models every K batches of each worker (a block); 0 = once per epoch; auto = "
                        + "ceil(32 / W) (a block is about 32 batches of the whole cluster's work; once per epoch for W = 1)",
                v -> v.equals("auto") || isInt(v, 0));
        key("dist.outer", "bmuf", "bmuf | average",
                "how the driver combines the workers' models: block momentum with Nesterov (BMUF, Chen and Huo 2016), "
                        + "or plain batch-weighted averaging", v -> v.equals("bmuf") || v.equals("average"));
        key("dist.block_momentum", "auto", "auto | [0, 1)",
                "BMUF's block momentum η; auto = 1 - 1/W (0 for one worker: plain averaging)",
                v -> v.equals("auto") || isNumber(v, 0, 1));
        key("dist.block_lr", "1.0", "number > 0", "BMUF's block learning rate ζ",
                v -> isNumber(v, Double.MIN_VALUE, Double.POSITIVE_INFINITY));
        key("generate.prefix", "tom", "text", "the prefix of the sample printed after training", v -> true);
        key("generate.length", "100", "integer >= 0", "tokens to generate after the prefix", v -> isInt(v, 0));
    }

    private final Map<String, String> values = new TreeMap<>();
    private final Map<String, String> sources = new TreeMap<>();

    private Settings() {}

    public static Map<String, Key> keys() {
        return KEYS;
    }

    /** Defaults, then {@code configFile} (a local file; may be null), then {@code overrides} ("key=value"). */
    public static Settings load(Path configFile, List<String> overrides) {
        return load(configFile == null ? null : Location.local(configFile), overrides);
    }

    /** Defaults, then {@code configFile} (on any Hadoop file system; may be null), then {@code overrides}. */
    public static Settings load(Location configFile, List<String> overrides) {
        Settings s = new Settings();
        if (configFile != null) {
            Properties p = new Properties();
            try {
                if (!configFile.isFile()) {
                    throw new UserError("config file " + configFile + " does not exist");
                }
                try (Reader r = new InputStreamReader(configFile.open(), StandardCharsets.UTF_8.newDecoder())) {
                    p.load(r);
                }
            } catch (IOException | IllegalArgumentException e) {
                throw new UserError("cannot read config file " + configFile + ": " + e.getMessage());
            }
            for (String k : new TreeMap<>(p).keySet().stream().map(Object::toString).toList()) {
                s.set(k, p.getProperty(k), configFile.toString());
            }
        }
        s.apply(overrides);
        return s;
    }

    /** Settings from a saved map (a checkpoint), then {@code overrides}. */
    public static Settings of(Map<String, String> saved, List<String> overrides) {
        Settings s = new Settings();
        saved.forEach((k, v) -> s.set(k, v, "the checkpoint"));
        s.apply(overrides);
        return s;
    }

    private void apply(List<String> overrides) {
        for (String o : overrides == null ? List.<String>of() : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new UserError("--set expects key=value, got '" + o + "'");
            }
            set(o.substring(0, eq).trim(), o.substring(eq + 1).trim(), "--set");
        }
    }

    private void set(String key, String value, String source) {
        Key k = KEYS.get(key);
        if (k == null) {
            throw new UserError("unknown setting '" + key + "' (from " + source + "); known settings: "
                    + String.join(", ", KEYS.keySet()));
        }
        String v = value.trim();
        String norm = key.equals("generate.prefix") || key.equals("data.path") ? v : v.toLowerCase(Locale.ROOT);
        if (!k.valid().test(norm)) {
            throw new UserError("invalid value '" + value + "' for " + key + " (from " + source + "): expected " + k.values());
        }
        values.put(key, norm);
        sources.put(key, source);
    }

    /** The keys given explicitly (by the config file, the checkpoint or --set), with their values. */
    public Map<String, String> explicit() {
        return java.util.Collections.unmodifiableMap(values);
    }

    /** Where an explicit key's value came from ("--set", a file name, "the checkpoint"), or "the default". */
    public String source(String key) {
        return sources.getOrDefault(key, "the default");
    }

    /** Two values of {@code key} mean the same: numbers compare as numbers ("1" and "1.0"), the rest as text. */
    public static boolean sameValue(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        try {
            return Double.parseDouble(a) == Double.parseDouble(b);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    public String get(String key) {
        Key k = KEYS.get(key);
        if (k == null) {
            throw new IllegalArgumentException("no setting " + key);
        }
        return values.getOrDefault(key, k.defaultValue());
    }

    public int getInt(String key) {
        return Integer.parseInt(get(key));
    }

    public long getLong(String key) {
        return Long.parseLong(get(key));
    }

    public double getDouble(String key) {
        return Double.parseDouble(get(key));
    }

    public boolean getBool(String key) {
        return Boolean.parseBoolean(get(key));
    }

    /** Every key with its effective value. */
    public Map<String, String> all() {
        Map<String, String> out = new LinkedHashMap<>();
        KEYS.keySet().forEach(k -> out.put(k, get(k)));
        return out;
    }
}
