package dev.seqspark.train;

import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Pooling;
import dev.seqspark.optim.Optimizers;
import dev.seqspark.text.Partitioning;
import dev.seqspark.text.TokenizerConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The settings of a training run, of either task: every key, its default and what it means, and — in one place for
 * both tasks and every caller (the CLI, the Spark ML estimators) — what they resolve to. A config file (Java
 * properties, {@code key = value}) overrides the defaults, {@code --set key=value} overrides both; an unknown key or
 * an invalid value is an IllegalArgumentException naming it. conf/*.properties are examples with every key documented.
 */
public final class Settings {

    /** One key: its default, what values it takes, and what it means. */
    public record Key(String name, String defaultValue, String values, String meaning, Predicate<String> valid) {}

    /** The tasks: a language model (the default) or a sequence classifier. */
    public static final String LM = "lm";
    public static final String CLASSIFY = "classify";

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();
    /** Keys of one task only (the others apply to both). */
    private static final Map<String, String> ONLY = new LinkedHashMap<>();
    /** A classifier's defaults where they differ from the language model's. */
    private static final Map<String, String> CLASSIFY_DEFAULTS = new LinkedHashMap<>();

    private static void key(String name, String def, String values, String meaning, Predicate<String> valid) {
        KEYS.put(name, new Key(name, def, values, meaning, valid));
    }

    /** A key of the classifier only. */
    private static void classifyKey(String name, String def, String values, String meaning, Predicate<String> valid) {
        key(name, def, values, meaning, valid);
        ONLY.put(name, CLASSIFY);
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
        key("task", LM, "lm | classify", "what to train: a language model, or a sequence classifier (--task sets it too)",
                v -> v.equals(LM) || v.equals(CLASSIFY));
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
        key("dist.sync_every", "auto", "auto | K | K1,K2,...",
                "combine the workers' models every K batches of each worker (a block); 0 = once per epoch; auto = "
                        + "max(ceil(200 / W^2), min(W, 8, a shard's batches / 25)) (W = 2: 50, 4: 13, 8 and more: 8, "
                        + "with 25 rounds an epoch at least; where that floor binds, epoch 1 every batch), "
                        + "once per epoch for W = 1; chosen by measurement",
                v -> v.equals("auto") || v.matches("\\d+(\\s*,\\s*\\d+)*"));
        key("dist.outer", "bmuf", "bmuf | nesterov | average",
                "how the driver combines the workers' models: block momentum with Nesterov (BMUF, Chen and Huo 2016), "
                        + "DiLoCo's outer Nesterov step (Douillard et al. 2023), or plain batch-weighted averaging",
                v -> List.of("bmuf", "nesterov", "average").contains(v));
        key("dist.block_momentum", "auto", "auto | [0, 1)",
                "the outer update's momentum; auto = 1 - 1/W for bmuf (0 for one worker: plain averaging), 0.9 for nesterov",
                v -> v.equals("auto") || isNumber(v, 0, 1));
        key("dist.block_lr", "auto", "auto | number > 0", "the outer update's learning rate; auto = 1 for bmuf, 0.7 for "
                + "nesterov", v -> v.equals("auto") || isNumber(v, Double.MIN_VALUE, Double.POSITIVE_INFINITY));
        key("dist.overlap", "false", "true | false",
                "start every round but an epoch's first before the driver has combined the round before: the workers "
                        + "train on while the driver combines, and each outer update lands one round late",
                Settings::isBool);
        key("dist.rounds", "auto", "auto | stream | jobs",
                "how rounds reach the executors: stream = one Spark job an epoch whose tasks read each round from a "
                        + "socket the driver serves (all tasks run at once); jobs = a Spark job a round; auto = stream "
                        + "unless dynamic allocation is on", v -> List.of("auto", "stream", "jobs").contains(v));
        key("dist.rounds_port", "0", "integer in [0, 65535]", "the driver's port for dist.rounds=stream; 0 = any free "
                + "port", v -> isInt(v, 0) && Integer.parseInt(v) <= 65535);
        key("generate.prefix", "tom", "text", "the prefix of the sample printed after training", v -> true);
        key("generate.length", "100", "integer >= 0", "tokens to generate after the prefix", v -> isInt(v, 0));
        key("generate.temperature", "0.8", "number >= 0", "the second sample's temperature (the first is greedy, as "
                + "d2l's predict_ch8); seeded by train.seed; 0 = no second sample",
                v -> isNumber(v, 0, Double.POSITIVE_INFINITY));
        for (String k : List.of("data.partitioning", "data.offset", "model.cell", "model.hidden_size", "model.num_layers",
                "model.dropout", "train.num_steps", "generate.prefix", "generate.length", "generate.temperature")) {
            ONLY.put(k, LM);
        }

        // ---- task = classify (conf/authorship.properties documents them)
        classifyKey("data.format", "auto", "auto | tsv | csv | json | parquet",
                "the records: label<TAB>text lines, CSV with a header, JSON lines or Parquet; auto: by the extension "
                        + "(.csv, .json/.jsonl, .parquet; anything else tsv)",
                v -> List.of("auto", "tsv", "csv", "json", "parquet").contains(v));
        classifyKey("data.text_col", "text", "a column name", "the text column (tsv input: the part after the tab)",
                v -> !v.isBlank());
        classifyKey("data.label_col", "label", "a column name", "the label column (tsv input: the part before the tab)",
                v -> !v.isBlank());
        classifyKey("data.valid_path", "", "a path or empty", "validation records (same format); empty: data.valid_fraction "
                + "of data.path, drawn by train.seed and each record's position", v -> true);
        classifyKey("data.test_path", "", "a path or empty", "records evaluated once after training (accuracy, macro-F1, "
                + "confusion matrix); empty: none", v -> true);
        classifyKey("data.max_length", "0", "integer >= 0", "records are cut to their first N tokens (training and "
                + "prediction); 0 = no limit", v -> isInt(v, 0));
        classifyKey("model.blocks", "lstm:128,gru:128", "CELL:HIDDEN[:layers=N][:bi][:dropout=P][:name=X],...",
                "the recurrent blocks, each reading the previous one's output; named lstm, gru, rnn in the weights",
                v -> {
                    try {
                        ClassifierSpec.parseBlocks(v);
                        return true;
                    } catch (IllegalArgumentException e) {
                        return false;
                    }
                });
        classifyKey("model.pooling", "last", "last | mean | max",
                "the last block's states over each record's valid steps: the last one (both directions' final states when "
                        + "bidirectional), the mean, the max", v -> List.of("last", "mean", "max").contains(v));
        classifyKey("train.class_weights", "none", "none | balanced | LABEL=WEIGHT,...",
                "the cross-entropy's class weights (torch.nn.CrossEntropyLoss weight); balanced = n / (classes * n_c)",
                v -> !v.isBlank());
        CLASSIFY_DEFAULTS.put("data.path", "");
        CLASSIFY_DEFAULTS.put("data.tokenizer.level", "word");
        CLASSIFY_DEFAULTS.put("data.tokenizer.lowercase", "true");
        CLASSIFY_DEFAULTS.put("data.tokenizer.letters_only", "true");
        CLASSIFY_DEFAULTS.put("data.min_freq", "1");
        CLASSIFY_DEFAULTS.put("data.max_vocab", "20000");
        CLASSIFY_DEFAULTS.put("model.embedding_dim", "64");
        CLASSIFY_DEFAULTS.put("train.optimizer", "adam");
        CLASSIFY_DEFAULTS.put("train.lr", "0.002");
    }

    /** Whether {@code key} means something for {@code task}. */
    public static boolean appliesTo(String key, String task) {
        String only = ONLY.get(key);
        return only == null || only.equals(task);
    }

    /** The task these settings are for. */
    public String task() {
        return values.getOrDefault("task", LM);
    }

    /** An explicit key of the other task is an error: it would silently mean nothing. */
    private void checkTask() {
        String task = task();
        for (String k : values.keySet()) {
            if (!appliesTo(k, task)) {
                throw new IllegalArgumentException(k + " (from " + source(k) + ") is a setting of --task " + ONLY.get(k)
                        + ", not of --task " + task + (task.equals(CLASSIFY) && k.startsWith("model.")
                        ? "; a classifier's recurrent layers are model.blocks" : ""));
            }
        }
    }

    /** Values kept as given: texts, paths, column and label names. */
    private static final java.util.Set<String> CASE_SENSITIVE = java.util.Set.of("generate.prefix", "data.path",
            "data.text_col", "data.label_col", "data.valid_path", "data.test_path", "model.blocks", "train.class_weights");

    private final Map<String, String> values = new TreeMap<>();
    private final Map<String, String> sources = new TreeMap<>();

    private Settings() {}

    public static Map<String, Key> keys() {
        return KEYS;
    }

    /** Defaults, then {@code values} (from {@code source}: a config file's name), then {@code overrides} ("key=value"). */
    public static Settings of(Map<String, String> values, String source, List<String> overrides) {
        Settings s = new Settings();
        new TreeMap<>(values).forEach((k, v) -> s.set(k, v, source));
        s.apply(overrides);
        s.checkTask();
        return s;
    }

    /** Settings from a saved map (a checkpoint), then {@code overrides}. */
    public static Settings of(Map<String, String> saved, List<String> overrides) {
        return of(saved, "the checkpoint", overrides);
    }

    private void apply(List<String> overrides) {
        for (String o : overrides == null ? List.<String>of() : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set expects key=value, got '" + o + "'");
            }
            set(o.substring(0, eq).trim(), o.substring(eq + 1).trim(), "--set");
        }
    }

    private void set(String key, String value, String source) {
        Key k = KEYS.get(key);
        if (k == null) {
            throw new IllegalArgumentException("unknown setting '" + key + "' (from " + source + "); known settings: "
                    + String.join(", ", KEYS.keySet()));
        }
        String v = value.trim();
        String norm = CASE_SENSITIVE.contains(key) ? v : v.toLowerCase(Locale.ROOT);
        if (!k.valid().test(norm)) {
            throw new IllegalArgumentException("invalid value '" + value + "' for " + key + " (from " + source + "): expected " + k.values());
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
        String def = task().equals(CLASSIFY) ? CLASSIFY_DEFAULTS.getOrDefault(key, k.defaultValue()) : k.defaultValue();
        return values.getOrDefault(key, def);
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

    /** Every key of the task with its effective value. */
    public Map<String, String> all() {
        Map<String, String> out = new LinkedHashMap<>();
        String task = task();
        KEYS.keySet().stream().filter(k -> appliesTo(k, task)).forEach(k -> out.put(k, get(k)));
        return out;
    }

    // ---- what the settings resolve to, for both tasks

    /** W: dist.workers, or {@code defaultParallelism} for 0. */
    public int workers(int defaultParallelism) {
        return getInt("dist.workers") > 0 ? getInt("dist.workers") : defaultParallelism;
    }

    /**
     * dist.sync_every=auto, chosen by measurement (docs/distributed.md, docs/scale.md): K = max(ceil(200 / W²),
     * min(W, 8, B / 25)) batches per worker per block, B a shard's batches per epoch. With few workers,
     * ceil(200 / W²): at W = 2 a block of 50 batches keeps the rounds a few percent of an epoch and BMUF still ends
     * where one worker does, and more workers need shorter blocks to keep that quality (W = 4: 13), as their
     * momentum spans W blocks. But a round's cost grows with W, so a block is at least W batches long, up to 8: on a
     * simulated cluster with rounds through the driver's channel, W = 8 reached one worker's quality soonest with 8
     * (of 4, 8) and W = 16 with 8 (of 1, 8, 16, 32) — as long as an epoch keeps 25 rounds: with fewer, quality per
     * epoch falls (W = 16 on a 1.2 MB book, 60
     * batches a shard: K = 16 ended 31% behind one worker after 10 epochs, K = 2 level with it). Where that floor
     * binds — shards too small for blocks of min(W, 8) — the first epoch is synchronous (K = 1, fairseq's BMUF
     * warm-up): the same book at W = 16 then ends 1.3% ahead of K = 2 from the start (3.824 against 3.851), at 5% more
     * time per epoch on average.
     */
    static final int BLOCK_SCALE = 200;
    static final int LONGEST_FLOOR = 8;
    static final int MIN_ROUNDS = 25;

    /** dist.sync_every for shards large enough that the floor's round count never binds. */
    public SyncSchedule syncEvery(int workers) {
        return syncEvery(workers, Integer.MAX_VALUE);
    }

    /**
     * dist.sync_every: K batches per worker per round (0: once per epoch), epoch by epoch; auto as above, with
     * {@code shardBatches} the fewest batches a shard has in an epoch. One worker whose outer update is plain
     * averaging (the default) trains its epochs without rounds, whatever K: a round would change nothing but the time.
     */
    public SyncSchedule syncEvery(int workers, int shardBatches) {
        String k = get("dist.sync_every");
        if (workers <= 1 && outerUpdate(workers).isAveraging()) {
            return SyncSchedule.every(0);
        }
        if (!k.equals("auto")) {
            return SyncSchedule.parse(k);
        }
        if (workers <= 1) {
            return SyncSchedule.every(0);
        }
        long w2 = (long) workers * workers;
        int longest = Math.min(workers, LONGEST_FLOOR);
        int floor = Math.min(longest, Math.max(1, shardBatches / MIN_ROUNDS));
        int block = (int) Math.max((BLOCK_SCALE + w2 - 1) / w2, floor);
        boolean small = floor < longest && block == floor && block > 1;   // the round floor binds: warm up in step
        return small ? new SyncSchedule(new int[] {1, block}) : SyncSchedule.every(block);
    }

    /** dist.overlap: whether rounds overlap; never for one worker, whose epoch is one round. */
    public boolean overlap(int workers) {
        return workers > 1 && getBool("dist.overlap");
    }

    /** dist.outer, dist.block_momentum and dist.block_lr (auto: BMUF's 1 − 1/W and 1, DiLoCo's 0.9 and 0.7). */
    public OuterUpdate outerUpdate(int workers) {
        String rule = get("dist.outer");
        if (rule.equals("average")) {
            return OuterUpdate.average();
        }
        boolean nesterov = rule.equals("nesterov");
        String mu = get("dist.block_momentum");
        String lr = get("dist.block_lr");
        double momentum = !mu.equals("auto") ? Double.parseDouble(mu) : nesterov ? 0.9 : OuterUpdate.defaultMomentum(workers);
        double rate = !lr.equals("auto") ? Double.parseDouble(lr) : nesterov ? 0.7 : 1.0;
        return nesterov ? OuterUpdate.nesterov(momentum, rate) : OuterUpdate.bmuf(momentum, rate);
    }

    public TokenizerConfig tokenizer() {
        return new TokenizerConfig(TokenizerConfig.Level.fromId(get("data.tokenizer.level")),
                getBool("data.tokenizer.lowercase"), getBool("data.tokenizer.letters_only"));
    }

    /** A language model's recipe. */
    public TrainConfig trainConfig() {
        String offset = get("data.offset");
        return new TrainConfig(getInt("train.batch_size"), getInt("train.num_steps"),
                Partitioning.fromId(get("data.partitioning")), offset.equals("random") ? null : Integer.valueOf(offset),
                get("train.optimizer"), getDouble("train.lr"), getDouble("train.clip"), getLong("train.seed"));
    }

    /** A classifier's recipe; class weights from train.class_weights and the training records per class. */
    public ClassifierTrainConfig classifierTrainConfig(List<String> labels, long[] perClass) {
        return new ClassifierTrainConfig(getInt("train.batch_size"), get("train.optimizer"), getDouble("train.lr"),
                getDouble("train.clip"), getLong("train.seed"), classWeights(get("train.class_weights"), labels, perClass));
    }

    /** A language model of {@code vocabSize} tokens. */
    public LanguageModelSpec languageModelSpec(int vocabSize) {
        return new LanguageModelSpec(CellType.fromId(get("model.cell")), vocabSize, getInt("model.embedding_dim"),
                getInt("model.hidden_size"), getInt("model.num_layers"), true, getDouble("model.dropout"));
    }

    /** A classifier of {@code vocabSize} tokens and {@code classes} classes. */
    public ClassifierSpec classifierSpec(int vocabSize, int classes) {
        return new ClassifierSpec(vocabSize, getInt("model.embedding_dim"), ClassifierSpec.parseBlocks(get("model.blocks")),
                Pooling.fromId(get("model.pooling")), classes);
    }

    /**
     * Class weights from their description: {@code none} (null), {@code balanced} = n / (classes · n_c) as
     * scikit-learn's, or {@code label=weight,…} with 1 for the labels not named.
     */
    public static float[] classWeights(String spec, List<String> labels, long[] perClass) {
        String s = spec == null ? "none" : spec.strip();
        if (s.isEmpty() || s.equalsIgnoreCase("none")) {
            return null;
        }
        float[] w = new float[labels.size()];
        if (s.toLowerCase(Locale.ROOT).equals("balanced")) {
            long n = 0;
            for (long c : perClass) {
                n += c;
            }
            for (int c = 0; c < w.length; c++) {
                w[c] = perClass[c] == 0 ? 0f : (float) ((double) n / (w.length * (double) perClass[c]));
            }
            return w;
        }
        Map<String, Integer> index = new java.util.HashMap<>();
        for (int c = 0; c < labels.size(); c++) {
            index.put(labels.get(c), c);
            w[c] = 1f;
        }
        Map<String, Float> given = new LinkedHashMap<>();
        for (String part : s.split(",")) {
            int eq = part.lastIndexOf('=');
            String name = eq < 0 ? "" : part.substring(0, eq).strip();
            float v;
            try {
                v = eq < 0 ? Float.NaN : Float.parseFloat(part.substring(eq + 1).strip());
            } catch (NumberFormatException e) {
                v = Float.NaN;
            }
            if (name.isEmpty() || !(v >= 0) || Float.isInfinite(v)) {
                throw new IllegalArgumentException("class weights: '" + part.strip() + "' should be LABEL=WEIGHT with a "
                        + "weight >= 0 (or say none or balanced)");
            }
            if (!index.containsKey(name)) {
                throw new IllegalArgumentException("class weights: '" + name + "' is not a class; the classes are "
                        + labels.subList(0, Math.min(10, labels.size())) + (labels.size() > 10 ? "…" : ""));
            }
            given.put(name, v);
        }
        given.forEach((k, v) -> w[index.get(k)] = v);
        return w;
    }
}
