package dev.seqspark.spark;

import dev.seqspark.io.ClassifierConfig;
import dev.seqspark.io.ClassifierModel;
import dev.seqspark.nn.ClassifierSpec;
import dev.seqspark.nn.Pooling;
import dev.seqspark.optim.Optimizers;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.ClassifierTrainConfig;
import dev.seqspark.train.ClassifierTrainer;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.OuterUpdate;
import dev.seqspark.train.TrainingLoop;
import java.io.Serializable;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Training a sequence classifier on Spark, as both {@code seqspark train --task classify} and the
 * {@link SequenceClassifier} estimator do it: the records become W cached shards ({@link ClassifierCorpus}), the
 * architecture is completed from the data (vocabulary size, classes), and {@link TrainingLoop} runs the epochs on
 * {@link ClassifierWorkers} — rounds, the outer update (averaging or BMUF), the listener (progress, checkpoints) —
 * exactly as for the language model.
 */
public final class ClassifierTraining implements AutoCloseable {

    /**
     * What to train: the data options, the architecture (embedding width, blocks, pooling), the optimizer, the
     * class weights ({@code none}, {@code balanced} = n / (classes · n_c) as scikit-learn's, or
     * {@code label=weight,…} with 1 for the labels not named), the epochs and the distribution (sync_every,
     * outer update; {@code blockMomentum} NaN = 1 − 1/W).
     */
    public record Plan(ClassifierCorpus.Options data, TokenizerConfig tokenizer, int embeddingDim,
                       List<ClassifierSpec.Block> blocks, Pooling pooling, int batchSize, String optimizer, double lr,
                       double clip, String classWeights, int epochs, int syncEvery, String outer, double blockMomentum,
                       double blockLr) implements Serializable {
        public Plan {
            blocks = List.copyOf(blocks);
            if (epochs <= 0) {
                throw new IllegalArgumentException("epochs must be positive, got " + epochs);
            }
            OuterUpdate.Rule.fromId(outer);
        }
    }

    public final Plan plan;
    public final ClassifierCorpus corpus;
    public final ClassifierSpec spec;
    public final ClassifierTrainConfig config;
    public final ClassifierConfig modelConfig;
    public final OuterUpdate outer;
    public final ClassifierWorkers workers;

    private ClassifierTraining(JavaSparkContext jsc, Plan plan, ClassifierCorpus corpus, ClassifierSpec spec,
                               ClassifierTrainConfig config) {
        this.plan = plan;
        this.corpus = corpus;
        this.spec = spec;
        this.config = config;
        this.modelConfig = new ClassifierConfig(spec, plan.tokenizer(), plan.data().maxLength());
        int w = plan.data().workers();
        this.outer = plan.outer().equals("average") ? OuterUpdate.average()
                : OuterUpdate.bmuf(Double.isNaN(plan.blockMomentum()) ? OuterUpdate.defaultMomentum(w) : plan.blockMomentum(),
                plan.blockLr());
        this.workers = new ClassifierWorkers(jsc, corpus, spec, config);
    }

    /**
     * Builds the shards of {@code train} (and {@code valid}, may be null) and the architecture. With {@code init}
     * (fine-tuning, resuming) its vocabulary, labels and architecture are used, and {@code plan}'s are ignored.
     */
    public static ClassifierTraining prepare(SparkSession spark, Dataset<Row> train, Dataset<Row> valid, Plan plan,
                                             ClassifierModel init) {
        Labels labels = init == null ? null : new Labels(init.labels(), false);
        ClassifierCorpus corpus = ClassifierCorpus.build(spark, train, valid, plan.data(),
                init == null ? null : init.vocab(), labels);
        try {
            ClassifierSpec spec = init != null ? init.spec() : new ClassifierSpec(corpus.vocab.size(), plan.embeddingDim(),
                    plan.blocks(), plan.pooling(), corpus.labels.size());
            ClassifierTrainConfig cfg = new ClassifierTrainConfig(plan.batchSize(), plan.optimizer(), plan.lr(), plan.clip(),
                    plan.data().seed(), classWeights(plan.classWeights(), corpus.labels.names(), corpus.trainPerClass));
            return new ClassifierTraining(JavaSparkContext.fromSparkContext(spark.sparkContext()), plan, corpus, spec, cfg);
        } catch (RuntimeException e) {
            corpus.close();
            throw e;
        }
    }

    /** The initial state: PyTorch-style weights from the seed, or {@code weights} (fine-tuning) with a fresh optimizer. */
    public ModelState initialState(float[] weights) {
        if (weights == null) {
            return ClassifierTrainer.initialState(spec, config, config.seed());
        }
        return new ModelState(weights, new float[Optimizers.stateSize(config.optimizer(), weights.length)], 0);
    }

    /** Trains epochs [firstEpoch, plan.epochs) from {@code start}. */
    public ModelState run(ModelState start, int firstEpoch, TrainingLoop.Listener listener) {
        return new TrainingLoop(workers, plan.syncEvery(), outer, listener).run(start, firstEpoch, plan.epochs());
    }

    public ClassifierModel model(float[] weights) {
        return new ClassifierModel(modelConfig, corpus.vocab, corpus.labels.names(), weights);
    }

    @Override
    public void close() {
        workers.close();
    }

    /** Class weights from their description (see {@link Plan}); null for none. */
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
        Map<String, Integer> index = new HashMap<>();
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
