package dev.seqspark.train;

import dev.seqspark.nn.ClassifierSpec;
import dev.seqspark.nn.Params;
import dev.seqspark.optim.Optimizer;
import dev.seqspark.optim.Optimizers;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleConsumer;

/**
 * The engine every worker runs for a classification task: trains a {@link Classifier} over minibatches of one
 * shard's records, all of an epoch's batches or K at a time, resuming where the last call stopped. Per batch:
 * forward over the packed variable-length records, (weighted) mean cross-entropy, backward, clipping by global
 * norm, optimizer step. Batches come from {@link #plan}: records bucketed by length. Not thread-safe: one per task.
 * It produces the same {@link ShardTrainer.Result} as the language model's trainer (there {@code tokens} counts
 * the records trained and {@code hidden} is null: nothing is carried between batches), so rounds, the outer
 * update and checkpoints are the language model's, unchanged.
 */
public final class ClassifierTrainer {
    private final ClassifierSpec spec;
    private final ClassifierTrainConfig cfg;
    private final Params params;
    private final Classifier model;
    private final Optimizer optimizer;
    private final float[] classWeights;
    private int[] x = new int[0];
    private final int[][] lengthsBySize;   // Recurrent wants lengths.length == batch: one array per batch size
    private final int[] targets;

    public ClassifierTrainer(ClassifierSpec spec, ClassifierTrainConfig cfg) {
        if (cfg.classWeights() != null && cfg.classWeights().length != spec.numClasses()) {
            throw new IllegalArgumentException(cfg.classWeights().length + " class weights for " + spec.numClasses() + " classes");
        }
        this.spec = spec;
        this.cfg = cfg;
        this.params = new Params(spec.layout());
        this.model = new Classifier(spec, params);
        this.optimizer = Optimizers.create(cfg.optimizer(), params.values.length, cfg.lr());
        this.classWeights = cfg.classWeights();
        this.lengthsBySize = new int[cfg.batchSize() + 1][];
        this.targets = new int[cfg.batchSize()];
    }

    /** A fresh state: PyTorch-style initial weights from {@code seed} and an empty optimizer state. */
    public static ModelState initialState(ClassifierSpec spec, ClassifierTrainConfig cfg, long seed) {
        Params p = spec.initParams(seed);
        return new ModelState(p.values, new float[Optimizers.stateSize(cfg.optimizer(), p.values.length)], 0);
    }

    /** Batches of a shard of {@code records} records: the same in every epoch. */
    public static int numBatches(ClassifierTrainConfig cfg, long records) {
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
        int[][] batches = new int[numBatches(cfg, n)][];
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

    /**
     * Trains batches [fromBatch, fromBatch + maxBatches) of {@code plan} (maxBatches ≤ 0: to its end) from
     * {@code start}. Dropout masks derive from (seed, epoch, shard, batch). Stops early, with
     * {@code finite == false}, at the first batch whose loss is not a finite number.
     */
    public ShardTrainer.Result train(ModelState start, LabeledRecords data, int[][] plan, int fromBatch, int maxBatches,
                                     int epoch, int shard, DoubleConsumer batchLoss) {
        params.setValues(start.weights());
        optimizer.restore(start.optimizerState(), start.optimizerSteps());
        int end = maxBatches <= 0 ? plan.length : Math.min(plan.length, fromBatch + maxBatches);
        double lossSum = 0;
        long records = 0;
        int done = 0;
        boolean finite = true;
        boolean dropout = spec.blocks().stream().anyMatch(b -> b.dropout() > 0);
        for (int i = fromBatch; i < end; i++) {
            int[] batch = plan[i];
            int steps = fill(data, batch);
            SplittableRandom drop = dropout ? new SplittableRandom(Seeds.derive(cfg.seed(), 2, epoch, shard, i)) : null;
            double loss = model.forwardBackward(x, steps, batch.length, lengthsBySize[batch.length], targets,
                    classWeights, drop);
            if (!Double.isFinite(loss)) {
                finite = false;
                break;
            }
            optimizer.clipAndStep(params.values, params.grads, cfg.clip());
            lossSum += loss * batch.length;
            records += batch.length;
            done++;
            if (batchLoss != null) {
                batchLoss.accept(loss);
            }
        }
        ModelState out = new ModelState(params.values.clone(), optimizer.state().clone(), optimizer.steps());
        return new ShardTrainer.Result(out, null, lossSum, records, done, fromBatch + done, finite);
    }

    /** The batch's tokens time-major into x (padding 0), lengths and targets; returns T, the longest length. */
    private int fill(LabeledRecords data, int[] batch) {
        int n = batch.length;
        int[] lengths = lengthsBySize[n];
        if (lengths == null) {
            lengths = lengthsBySize[n] = new int[n];
        }
        int steps = 0;
        for (int i = 0; i < n; i++) {
            lengths[i] = data.tokens()[batch[i]].length;
            steps = Math.max(steps, lengths[i]);
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
        int[] x = new int[0];
        int[] predicted = new int[batchSize];
        int[] targets = new int[batchSize];
        for (int from = 0; from < n; from += batchSize) {
            int b = Math.min(batchSize, n - from);
            int[] lengths = new int[b];
            int steps = 0;
            for (int i = 0; i < b; i++) {
                lengths[i] = tokens[order[from + i]].length;
                steps = Math.max(steps, lengths[i]);
                targets[i] = data.labels()[order[from + i]];
            }
            if (x.length < steps * b) {
                x = new int[steps * b];
            }
            for (int i = 0; i < b; i++) {
                int[] r = tokens[order[from + i]];
                for (int t = 0; t < steps; t++) {
                    x[t * b + i] = t < r.length ? r[t] : 0;
                }
            }
            m.addLoss(model.sumLoss(x, steps, b, lengths, targets, predicted));
            for (int i = 0; i < b; i++) {
                m.addCounts(targets[i], predicted[i]);
            }
        }
        return m;
    }
}
