package dev.seqspark.spark;

import dev.seqspark.io.Model;
import dev.seqspark.model.LanguageModelSpec;
import java.util.Map;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;

/**
 * A Spark ML {@link org.apache.spark.ml.Estimator} that trains a SeqSpark language model (d2l's RNNModel) on a text
 * column and returns it as a {@link LanguageModelScorer}: the records, in the Dataset's order, are the corpus's
 * lines (as {@code seqspark train} reads a file), cut into W contiguous shards, trained with d2l's recipe
 * (batch × num_steps, state carried, clipping) and the outer update (averaging or BMUF) on the driver, without
 * checkpoints ({@link TrainingRun}, as {@code seqspark train}).
 *
 * <pre>{@code
 * LanguageModelScorer lm = new LanguageModelEstimator().setTextCol("review").setCell("gru").setHiddenSize(128)
 *         .setEpochs(5).fit(reviews);
 * lm.transform(newReviews);        // + tokens, log_likelihood, perplexity, bits_per_token
 * }</pre>
 *
 * The returned scorer reads the same {@code textCol}. Every param has a default and a doc (the shared ones:
 * {@link SeqSparkEstimator}); the estimator copies, works in a Pipeline / CrossValidator, and saves and loads
 * ({@link org.apache.spark.ml.util.MLWritable}, {@link #read()}).
 */
public final class LanguageModelEstimator extends SeqSparkEstimator<LanguageModelScorer, LanguageModelEstimator> {
    private static final long serialVersionUID = 1L;

    private final Param<String> cell;
    private final IntParam hiddenSize;
    private final IntParam numLayers;
    private final DoubleParam dropout;
    private final IntParam numSteps;
    private final Param<String> partitioning;

    public LanguageModelEstimator(String uid) {
        super(uid);
        cell = choice(this, "cell", "the recurrent cell", "gru", "lstm", "rnn_tanh", "rnn_relu");
        hiddenSize = new IntParam(this, "hiddenSize", "features of the hidden state (> 0)", ParamValidators.gt(0));
        numLayers = new IntParam(this, "numLayers", "stacked recurrent layers (> 0)", ParamValidators.gt(0));
        dropout = new DoubleParam(this, "dropout", "dropout between stacked layers, training only (in [0, 1))",
                ParamValidators.inRange(0, 1, true, false));
        numSteps = new IntParam(this, "numSteps", "time steps per minibatch, truncated BPTT (> 0)", ParamValidators.gt(0));
        partitioning = choice(this, "partitioning", "d2l's sequential (state carried) or random minibatches",
                "sequential", "random");
        setTaskDefaults("char", false, false, 0, 0, 0, "sgd", 1.0);
        setDefault(cell, "gru");
        setDefault(hiddenSize, 256);
        setDefault(numLayers, 1);
        setDefault(dropout, 0.0);
        setDefault(numSteps, 35);
        setDefault(partitioning, "sequential");
    }

    public LanguageModelEstimator() {
        this(Identifiable$.MODULE$.randomUID("lmEstimator"));
    }

    public static LanguageModelEstimator load(String path) {
        return read().load(path);
    }

    public static MLReader<LanguageModelEstimator> read() {
        return new DefaultParamsReader<>();
    }

    @Override
    public LanguageModelEstimator copy(ParamMap extra) {
        return copyValues(new LanguageModelEstimator(uid()), extra);
    }

    @Override
    void taskSettings(Map<String, String> s) {
        s.put("task", "lm");
        s.put("data.valid_fraction", "0");
        s.put("data.partitioning", getPartitioning());
        s.put("model.cell", getCell());
        s.put("model.hidden_size", String.valueOf(getHiddenSize()));
        s.put("model.num_layers", String.valueOf(getNumLayers()));
        s.put("model.dropout", String.valueOf(getDropout()));
        s.put("train.num_steps", String.valueOf(getNumSteps()));
    }

    @Override
    TrainingRun.Data data(Dataset<?> dataset) {
        return new TrainingRun.Data(dataset.toDF().select(getTextCol()), null, "column '" + getTextCol() + "'");
    }

    @Override
    @SuppressWarnings("unchecked")
    LanguageModelScorer model(Model<?> trained) {
        return new LanguageModelScorer((Model<LanguageModelSpec>) trained).setTextCol(getTextCol());
    }

    public Param<String> cell() { return cell; }
    public IntParam hiddenSize() { return hiddenSize; }
    public IntParam numLayers() { return numLayers; }
    public DoubleParam dropout() { return dropout; }
    public IntParam numSteps() { return numSteps; }
    public Param<String> partitioning() { return partitioning; }

    public String getCell() { return getOrDefault(cell); }
    public int getHiddenSize() { return (Integer) getOrDefault(hiddenSize); }
    public int getNumLayers() { return (Integer) getOrDefault(numLayers); }
    public double getDropout() { return (Double) getOrDefault(dropout); }
    public int getNumSteps() { return (Integer) getOrDefault(numSteps); }
    public String getPartitioning() { return getOrDefault(partitioning); }

    public LanguageModelEstimator setCell(String v) { set(cell, v); return this; }
    public LanguageModelEstimator setHiddenSize(int v) { set(hiddenSize, v); return this; }
    public LanguageModelEstimator setNumLayers(int v) { set(numLayers, v); return this; }
    public LanguageModelEstimator setDropout(double v) { set(dropout, v); return this; }
    public LanguageModelEstimator setNumSteps(int v) { set(numSteps, v); return this; }
    public LanguageModelEstimator setPartitioning(String v) { set(partitioning, v); return this; }
}
