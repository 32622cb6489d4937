package dev.seqspark.spark;

import dev.seqspark.io.Model;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.score.Scorer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link org.apache.spark.ml.Transformer} (a {@link org.apache.spark.ml.Model}: what {@link LanguageModelEstimator#fit}
 * returns) that scores a text column with a SeqSpark language model: for each record,
 * its tokens by the model's tokenizer, the recurrent state starting from zeros at the record's first token,
 * {@code log_likelihood} = Σ ln p(token<sub>t</sub> | tokens<sub>1..t−1</sub>) over t = 2..n, and from it
 * perplexity and bits per token; optionally the k most likely tokens after the record's last one.
 *
 * <pre>{@code
 * LanguageModelScorer scorer = LanguageModelScorer.load("models/char-gru").setTextCol("body").setTopK(3);
 * Dataset<Row> scored = scorer.transform(spark.read().parquet("reviews.parquet"));
 * }</pre>
 *
 * <h2>Parameters</h2>
 * <ul>
 * <li>{@code textCol} – the input column to score, of type string. Default: {@code "text"}.
 * <li>{@code topK} – how many next-token predictions to emit after each record; 0 emits no {@code topKCol}
 *     column at all. At most the vocabulary size is emitted. Default: {@code 0}.
 * <li>{@code batchSize} – records run through the model together (rows of one batch); only speed and
 *     memory depend on it, not the scores. Must be &gt; 0. Default: {@code 128}.
 * <li>{@code tokensCol} – output column: the number of predicted tokens. Default: {@code "tokens"}.
 * <li>{@code logLikelihoodCol} – output column: the log-likelihood. Default: {@code "log_likelihood"}.
 * <li>{@code perplexityCol} – output column: the perplexity. Default: {@code "perplexity"}.
 * <li>{@code bitsPerTokenCol} – output column: bits per token. Default: {@code "bits_per_token"}.
 * <li>{@code topKCol} – output column: the next-token predictions (only when {@code topK} &gt; 0).
 *     Default: {@code "top_k"}.
 * </ul>
 * Column names must be non-empty and the output names distinct from each other and from the input's columns.
 *
 * <h2>Input</h2>
 * Any Dataset with a string column {@code textCol}; a null text is scored as an empty record. Every input
 * column is passed through unchanged, in order.
 *
 * <h2>Output</h2>
 * The input columns, then, with n = the record's token count:
 * <table>
 * <caption>Output columns (names by default)</caption>
 * <tr><th>column</th><th>type</th><th>value</th></tr>
 * <tr><td>{@code tokens}</td><td>bigint, not null</td><td>max(n − 1, 0): tokens predicted from the ones before them</td></tr>
 * <tr><td>{@code log_likelihood}</td><td>double, not null</td><td>Σ ln p over those tokens, natural log, ≤ 0;
 *     0 when {@code tokens} = 0</td></tr>
 * <tr><td>{@code perplexity}</td><td>double, nullable</td><td>exp(−log_likelihood / tokens); null when
 *     {@code tokens} = 0</td></tr>
 * <tr><td>{@code bits_per_token}</td><td>double, nullable</td><td>−log_likelihood / tokens / ln 2; null when
 *     {@code tokens} = 0</td></tr>
 * <tr><td>{@code top_k}</td><td>array&lt;struct&lt;token: string, probability: double&gt;&gt;, nullable</td>
 *     <td>only when {@code topK} &gt; 0: the min(topK, vocabulary size) most likely tokens after the record's
 *     last one, most likely first; null for an empty record</td></tr>
 * </table>
 *
 * <h2>Persistence</h2>
 * {@link MLWritable}, and {@link #read()} / {@link #load(String)} as Spark's own models: {@code save(path)}
 * writes Spark's params metadata to {@code path/metadata} and the model as a SeqSpark model directory
 * (config.json, vocab.json, weights.safetensors) to {@code path/model}, on any Hadoop file system, so a
 * {@code PipelineModel} holding a scorer saves and loads with {@code PipelineModel.save/load}.
 * {@link #load(String)} also accepts a bare SeqSpark model directory (as {@code seqspark train} writes it).
 * Paths are Hadoop paths, resolved as Spark resolves them: without a scheme, against {@code fs.defaultFS}
 * (the local file system unless the cluster sets HDFS; then a driver-local directory needs {@code file:}).
 *
 * <p>The model is broadcast once per {@code transform}; executors stream their partitions in blocks of
 * records grouped by length (see {@link Scorer}); nothing is collected on the driver.
 */
public final class LanguageModelScorer extends SeqSparkModel<LanguageModelScorer, LanguageModelSpec> {
    private static final long serialVersionUID = 1L;

    private final IntParam topK;
    private final Param<String> tokensCol;
    private final Param<String> logLikelihoodCol;
    private final Param<String> perplexityCol;
    private final Param<String> bitsPerTokenCol;
    private final Param<String> topKCol;

    /** A scorer of {@code model} with the given uid (as Spark's readers and {@link #copy} need). */
    public LanguageModelScorer(String uid, Model<LanguageModelSpec> model) {
        super(uid, model, "the input column of text (string) to score; null scores as an empty record");
        this.topK = new IntParam(this, "topK", "next-token predictions after each record (>= 0; 0 = no topKCol column)",
                ParamValidators.gtEq(0));
        this.tokensCol = column("tokensCol", "output column (bigint): tokens predicted, the record's token count - 1, at least 0");
        this.logLikelihoodCol = column("logLikelihoodCol",
                "output column (double): sum of ln p of tokens 2..n given the ones before them");
        this.perplexityCol = column("perplexityCol", "output column (double): exp(-log_likelihood / tokens), null when tokens = 0");
        this.bitsPerTokenCol = column("bitsPerTokenCol",
                "output column (double): -log_likelihood / tokens / ln 2, null when tokens = 0");
        this.topKCol = column("topKCol", "output column (array<struct<token: string, probability: double>>), "
                + "only when topK > 0: the most likely next tokens after the record, most likely first");
        setDefault(topK, 0);
        setDefault(tokensCol, "tokens");
        setDefault(logLikelihoodCol, "log_likelihood");
        setDefault(perplexityCol, "perplexity");
        setDefault(bitsPerTokenCol, "bits_per_token");
        setDefault(topKCol, "top_k");
    }

    public LanguageModelScorer(Model<LanguageModelSpec> model) {
        this(Identifiable$.MODULE$.randomUID("lmScorer"), model);
    }

    private Param<String> column(String name, String doc) {
        return SeqSparkEstimator.stringParam(this, name, doc, false);
    }

    /**
     * A scorer from {@code path}, any Hadoop file system path: either what {@link #save} wrote (it has
     * {@code metadata}; uid and params are restored) or a bare SeqSpark model directory (it has
     * {@code config.json}; default params, a new uid). The model is read and checked on the driver.
     */
    public static LanguageModelScorer load(String path) { return read().load(path); }

    /** Spark's reader of a saved scorer (what {@code PipelineModel.load} calls for this stage). */
    public static MLReader<LanguageModelScorer> read() {
        return reader(LanguageModelScorer.class, LanguageModelSpec.class,
                (uid, m) -> uid == null ? new LanguageModelScorer(m) : new LanguageModelScorer(uid, m));
    }

    @Override
    LanguageModelScorer make(String uid, Model<LanguageModelSpec> model) {
        return new LanguageModelScorer(uid, model);
    }

    public IntParam topK() { return topK; }
    public Param<String> tokensCol() { return tokensCol; }
    public Param<String> logLikelihoodCol() { return logLikelihoodCol; }
    public Param<String> perplexityCol() { return perplexityCol; }
    public Param<String> bitsPerTokenCol() { return bitsPerTokenCol; }
    public Param<String> topKCol() { return topKCol; }

    public int getTopK() { return (Integer) getOrDefault(topK); }
    public String getTokensCol() { return getOrDefault(tokensCol); }
    public String getLogLikelihoodCol() { return getOrDefault(logLikelihoodCol); }
    public String getPerplexityCol() { return getOrDefault(perplexityCol); }
    public String getBitsPerTokenCol() { return getOrDefault(bitsPerTokenCol); }
    public String getTopKCol() { return getOrDefault(topKCol); }

    public LanguageModelScorer setTopK(int value) { set(topK, value); return this; }
    public LanguageModelScorer setTokensCol(String value) { set(tokensCol, value); return this; }
    public LanguageModelScorer setLogLikelihoodCol(String value) { set(logLikelihoodCol, value); return this; }
    public LanguageModelScorer setPerplexityCol(String value) { set(perplexityCol, value); return this; }
    public LanguageModelScorer setBitsPerTokenCol(String value) { set(bitsPerTokenCol, value); return this; }
    public LanguageModelScorer setTopKCol(String value) { set(topKCol, value); return this; }

    @Override
    List<StructField> outputFields() {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField(getTokensCol(), DataTypes.LongType, false),
                DataTypes.createStructField(getLogLikelihoodCol(), DataTypes.DoubleType, false),
                DataTypes.createStructField(getPerplexityCol(), DataTypes.DoubleType, true),
                DataTypes.createStructField(getBitsPerTokenCol(), DataTypes.DoubleType, true)));
        if (getTopK() > 0) {
            StructType pred = new StructType()
                    .add("token", DataTypes.StringType, false)
                    .add("probability", DataTypes.DoubleType, false);
            f.add(DataTypes.createStructField(getTopKCol(), DataTypes.createArrayType(pred, false), true));
        }
        return f;
    }

    @Override
    Rows<LanguageModelSpec> rows() {
        int k = getTopK();
        int rows = getBatchSize();
        return (in, model, textIdx, counters) -> new Scored(in, new Scorer(model, rows, Scorer.CHUNK_STEPS, k), textIdx,
                counters);
    }

    /** A partition's rows with their scores appended, a block of records at a time. */
    private static final class Scored extends RowBlocks<Scorer.Score> {
        private final Scorer scorer;

        Scored(Iterator<Row> in, Scorer scorer, int textIdx, JobProgress.Counters counters) {
            super(in, textIdx, counters);
            this.scorer = scorer;
        }

        @Override
        protected List<Scorer.Score> run(List<String> texts) {
            List<int[]> ids = new ArrayList<>(texts.size());
            for (String t : texts) {
                ids.add(scorer.encode(t == null ? "" : t));   // a null text scores as an empty record
            }
            List<Scorer.Score> scores = scorer.score(ids);
            long tokens = 0;
            for (Scorer.Score s : scores) {
                tokens += s.tokens();
            }
            count(texts.size(), tokens);
            return scores;
        }

        @Override
        protected Object[] appended(Scorer.Score s) {
            boolean top = scorer.topK() > 0;
            Object[] v = new Object[top ? 5 : 4];
            v[0] = s.tokens();
            v[1] = s.logLikelihood();
            v[2] = s.tokens() == 0 ? null : s.perplexity();
            v[3] = s.tokens() == 0 ? null : s.bitsPerToken();
            if (top) {
                List<Row> preds = new ArrayList<>();
                for (int i = 0; i < s.topIds().length; i++) {
                    preds.add(RowFactory.create(scorer.vocab().token(s.topIds()[i]), (double) s.topProbs()[i]));
                }
                v[4] = s.topIds().length == 0 ? null : scala.jdk.javaapi.CollectionConverters.asScala(preds);
            }
            return v;
        }
    }
}
