package dev.seqspark.train;

import dev.seqspark.model.Classifier;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.nn.Params;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A sequence classifier's {@link Task}: a shard is a set of labelled records, trained in minibatches of records of
 * similar length ({@link #plan}), packed (padding never enters a state), with the (class-weighted) mean
 * cross-entropy; nothing is carried between batches. Validation counts the loss, accuracy, macro-F1 and confusion
 * matrix of the shard's validation records.
 */
public record ClassifierTask(ClassifierSpec spec, ClassifierTrainConfig cfg) implements Task<RecordShard> {

    public ClassifierTask {
        if (cfg.classWeights() != null && cfg.classWeights().length != spec.numClasses()) {
            throw new IllegalArgumentException(cfg.classWeights().length + " class weights for " + spec.numClasses() + " classes");
        }
    }

    @Override
    public Optimization optimization() {
        return cfg;
    }

    /** Batches of a shard of {@code records} records: the same in every epoch. */
    @Override
    public int batches(long records, int epoch, int shard) {
        return (int) ((records + cfg.batchSize() - 1) / cfg.batchSize());
    }

    /**
     * The batches of shard {@code shard} in epoch {@code epoch}, as lists of record indices in training order:
     * the records in a random order, then stably sorted by length (so records of equal length mix differently
     * every epoch), cut into consecutive batches of batch_size (the last may be smaller), and the batches in a
     * random order. Every draw derives from (seed, epoch, shard); records of similar length train together, so
     * little of a batch is padding.
     */
    public static int[][] plan(ClassifierTrainConfig cfg, LabeledRecords data, int epoch, int shard) {
        int n = data.size();
        SplittableRandom rng = new SplittableRandom(Seeds.derive(cfg.seed(), 3, epoch, shard));
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        shuffle(order, rng);
        int[][] tokens = data.tokens();
        Arrays.sort(order, (a, b) -> Integer.compare(tokens[a].length, tokens[b].length));   // stable
        int b = cfg.batchSize();
        int[][] batches = new int[(n + b - 1) / b][];
        for (int k = 0; k < batches.length; k++) {
            int from = k * b;
            batches[k] = new int[Math.min(b, n - from)];
            for (int i = 0; i < batches[k].length; i++) {
                batches[k][i] = order[from + i];
            }
        }
        shuffle(batches, rng);
        return batches;
    }

    private static <T> void shuffle(T[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    @Override
    public Steps<RecordShard> steps(Params params) {
        return new Batches(params);
    }

    /** One shard's bucketed minibatches of an epoch. */
    private final class Batches implements Steps<RecordShard> {
        private final Classifier model;
        private final Packed packed = new Packed(cfg.batchSize());
        private final float[] classWeights = cfg.classWeights();
        private LabeledRecords data;
        private int[][] plan;
        private int examples;
        private long tokens;

        Batches(Params params) {
            this.model = new Classifier(spec, params);
        }

        @Override
        public int begin(RecordShard shard, int epoch, Serializable carried) {
            data = shard.train();
            plan = plan(cfg, data, epoch, shard.index());
            return plan.length;
        }

        @Override
        public double step(int i, SplittableRandom dropout) {
            int[] batch = plan[i];
            int steps = packed.fill(data, batch);
            examples = batch.length;
            tokens = packed.tokens;
            return model.forwardBackward(packed.x, steps, batch.length, packed.lengths(batch.length), packed.targets,
                    classWeights, dropout);
        }

        @Override
        public int examples() {
            return examples;
        }

        @Override
        public long tokens() {
            return tokens;
        }

        @Override
        public Serializable carried() {
            return null;
        }
    }

    /** A batch of records time-major (padding 0), their lengths and labels, in buffers kept between batches. */
    private static final class Packed {
        int[] x = new int[0];
        final int[] targets;
        final int[][] lengthsBySize;   // Recurrent wants lengths.length == batch: one array per batch size
        long tokens;

        Packed(int batchSize) {
            this.targets = new int[batchSize];
            this.lengthsBySize = new int[batchSize + 1][];
        }

        int[] lengths(int n) {
            if (lengthsBySize[n] == null) {
                lengthsBySize[n] = new int[n];
            }
            return lengthsBySize[n];
        }

        /** Records {@code batch} of {@code data}; returns T, the longest length. */
        int fill(LabeledRecords data, int[] batch) {
            int n = batch.length;
            int[] lengths = lengths(n);
            int steps = 0;
            tokens = 0;
            for (int i = 0; i < n; i++) {
                lengths[i] = data.tokens()[batch[i]].length;
                steps = Math.max(steps, lengths[i]);
                tokens += lengths[i];
                targets[i] = data.labels()[batch[i]];
            }
            long size = (long) steps * n;
            if (size > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("a batch of " + n + " records of up to " + steps
                        + " tokens does not fit in one array; lower train.batch_size or set data.max_length");
            }
            if (x.length < size) {
                x = new int[(int) Math.max(size, Math.min(Integer.MAX_VALUE - 8, x.length * 2L))];
            }
            for (int i = 0; i < n; i++) {
                int[] r = data.tokens()[batch[i]];
                for (int t = 0; t < steps; t++) {
                    x[t * n + i] = t < r.length ? r[t] : 0;
                }
            }
            return steps;
        }
    }

    @Override
    public Validation validate(float[] weights, List<RecordShard> shards) {
        return evaluate(spec, weights, LabeledRecords.concat(shards.stream().map(RecordShard::valid).toList()),
                cfg.batchSize());
    }

    @Override
    public Validation noValidation() {
        return new ClassMetrics(spec.numClasses());
    }

    /**
     * The metrics of {@code weights} on {@code data}: forward only, frozen weights, records in batches of
     * {@code batchSize} sorted by length (the order does not change any record's result).
     */
    public static ClassMetrics evaluate(ClassifierSpec spec, float[] weights, LabeledRecords data, int batchSize) {
        ClassMetrics m = new ClassMetrics(spec.numClasses());
        int n = data.size();
        if (n == 0) {
            return m;
        }
        Classifier model = new Classifier(spec, Params.of(spec.layout(), weights)).freezeWeights();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        int[][] tokens = data.tokens();
        Arrays.sort(order, (a, b) -> Integer.compare(tokens[a].length, tokens[b].length));
        Packed packed = new Packed(batchSize);
        int[] predicted = new int[batchSize];
        for (int from = 0; from < n; from += batchSize) {
            int[] batch = new int[Math.min(batchSize, n - from)];
            for (int i = 0; i < batch.length; i++) {
                batch[i] = order[from + i];
            }
            int steps = packed.fill(data, batch);
            m.addLoss(model.sumLoss(packed.x, steps, batch.length, packed.lengths(batch.length), packed.targets, predicted));
            for (int i = 0; i < batch.length; i++) {
                m.addCounts(packed.targets[i], predicted[i]);
            }
        }
        return m;
    }

    @Override
    public String describe() {
        return String.format("%s, %s pooling, %s input, %d classes", ClassifierSpec.formatBlocks(spec.blocks()),
                spec.pooling().id, spec.embeddingDim() > 0 ? "embedding " + spec.embeddingDim() : "one-hot",
                spec.numClasses());
    }

    @Override
    public String recipe() {
        return String.format("batch %d records, %s, lr %s, clip %s%s", cfg.batchSize(), cfg.optimizer(), cfg.lr(),
                cfg.clip(), cfg.classWeights() == null ? "" : ", class weights " + Arrays.toString(cfg.classWeights()));
    }

    @Override
    public String examplesName() {
        return "records";
    }

    @Override
    public String trainLoss(double meanLoss) {
        return String.format("train loss %.4f", meanLoss);
    }

    @Override
    public String validation(Validation v) {
        ClassMetrics m = (ClassMetrics) v;
        return "valid loss " + fmt(m.meanLoss()) + "  accuracy " + fmt(m.accuracy()) + "  macro-F1 " + fmt(m.macroF1());
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.4f", v);
    }

    @Override
    public Map<String, Object> metrics(TrainingLoop.EpochMetrics m) {
        ClassMetrics v = (ClassMetrics) m.valid();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("epoch", m.epoch());
        line.put("train_loss", m.trainLoss());
        line.put("valid_loss", rounded(v.meanLoss()));
        line.put("valid_accuracy", rounded(v.accuracy()));
        line.put("valid_macro_f1", rounded(v.macroF1()));
        line.put("records_per_second", Math.round(m.examples() / m.seconds()));
        line.put("tokens_per_second", Math.round(m.tokens() / m.seconds()));
        line.put("seconds", Math.round(m.seconds() * 1000) / 1000.0);
        line.put("records", m.examples());
        return line;
    }

    /** Six decimals, or null for NaN. */
    public static Double rounded(double v) {
        return Double.isNaN(v) ? null : Math.round(v * 1e6) / 1e6;
    }
}
