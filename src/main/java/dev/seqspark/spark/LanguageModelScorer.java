package dev.seqspark.spark;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.score.Scorer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Transformer} that scores a text column with a SeqSpark language model, for use inside any
 * Spark job. It appends {@code tokens} (predicted tokens: the record's token count minus 1, at least 0),
 * {@code log_likelihood} (Σ ln p of tokens 2..n given the ones before, the state starting from zeros at the
 * record's first token), {@code perplexity} and {@code bits_per_token} (null when no token is predicted) and,
 * with {@code topK} &gt; 0, {@code top_k}: the k most likely next tokens after the record's last one.
 *
 * <pre>{@code
 * LanguageModelScorer scorer = LanguageModelScorer.load("models/char-gru").setTextCol("body").setTopK(3);
 * Dataset<Row> scored = scorer.transform(spark.read().parquet("reviews.parquet"));
 * }</pre>
 * The model is broadcast once; executors stream their partitions in blocks of records grouped by length
 * (see {@link Scorer}); nothing is collected on the driver.
 */
public final class LanguageModelScorer extends Transformer {
    private static final long serialVersionUID = 1L;
    /** Records (or characters, whichever comes first) read into one block before scoring it. */
    static final int BLOCK_RECORDS = 1024;
    static final long BLOCK_CHARS = 4L << 20;

    private final String uid;
    private final Model model;
    private final Param<String> textCol;
    private final IntParam topK;
    private final IntParam batchSize;

    public LanguageModelScorer(String uid, Model model) {
        this.uid = uid;
        this.model = model;
        this.textCol = new Param<>(this, "textCol", "the input column of text to score");
        this.topK = new IntParam(this, "topK", "next-token predictions after each record (0 = none)",
                ParamValidators.gtEq(0));
        this.batchSize = new IntParam(this, "batchSize", "records scored together (rows of one batch)",
                ParamValidators.gt(0));
        setDefault(textCol, "text");
        setDefault(topK, 0);
        setDefault(batchSize, 128);
    }

    public LanguageModelScorer(Model model) {
        this(Identifiable$.MODULE$.randomUID("lmScorer"), model);
    }

    /** A scorer for the model directory at {@code dir} (read and checked on the driver). */
    public static LanguageModelScorer load(String dir) {
        return new LanguageModelScorer(ModelDir.read(Path.of(dir)));
    }

    public Param<String> textCol() {
        return textCol;
    }

    public IntParam topK() {
        return topK;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public LanguageModelScorer setTextCol(String value) {
        set(textCol, value);
        return this;
    }

    public LanguageModelScorer setTopK(int value) {
        set(topK, value);
        return this;
    }

    public LanguageModelScorer setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    public Model model() {
        return model;
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String col = getOrDefault(textCol);
        if (!java.util.Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("input has no column '" + col + "'; columns: "
                    + String.join(", ", schema.fieldNames()));
        }
        if (!schema.apply(col).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("column '" + col + "' is " + schema.apply(col).dataType().simpleString()
                    + ", not a string");
        }
        StructType out = schema;
        for (StructField f : outputFields((Integer) getOrDefault(topK))) {
            if (java.util.Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("input already has a column '" + f.name() + "'");
            }
            out = out.add(f);
        }
        return out;
    }

    static List<StructField> outputFields(int k) {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField("tokens", DataTypes.LongType, false),
                DataTypes.createStructField("log_likelihood", DataTypes.DoubleType, false),
                DataTypes.createStructField("perplexity", DataTypes.DoubleType, true),
                DataTypes.createStructField("bits_per_token", DataTypes.DoubleType, true)));
        if (k > 0) {
            StructType pred = new StructType()
                    .add("token", DataTypes.StringType, false)
                    .add("probability", DataTypes.DoubleType, false);
            f.add(DataTypes.createStructField("top_k", DataTypes.createArrayType(pred, false), true));
        }
        return f;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        int textIdx = dataset.schema().fieldIndex(getOrDefault(textCol));
        int k = (Integer) getOrDefault(topK);
        int rows = (Integer) getOrDefault(batchSize);
        Broadcast<Model> b = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext()).broadcast(model);
        MapPartitionsFunction<Row, Row> f = it -> new Scored(it, new Scorer(b.value(), rows, 256, k), textIdx);
        return dataset.toDF().mapPartitions(f, Encoders.row(out));
    }

    @Override
    public Transformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** A partition's rows with their scores appended, a block of records at a time. */
    private static final class Scored implements Iterator<Row> {
        private final Iterator<Row> in;
        private final Scorer scorer;
        private final int textIdx;
        private final List<Row> block = new ArrayList<>();
        private List<Scorer.Score> scores = List.of();
        private int next;

        Scored(Iterator<Row> in, Scorer scorer, int textIdx) {
            this.in = in;
            this.scorer = scorer;
            this.textIdx = textIdx;
        }

        @Override
        public boolean hasNext() {
            if (next < block.size()) {
                return true;
            }
            block.clear();
            next = 0;
            List<int[]> ids = new ArrayList<>();
            long chars = 0;
            while (in.hasNext() && block.size() < BLOCK_RECORDS && chars < BLOCK_CHARS) {
                Row r = in.next();
                String text = r.isNullAt(textIdx) ? "" : r.getString(textIdx);
                block.add(r);
                ids.add(scorer.encode(text));
                chars += text.length();
            }
            scores = block.isEmpty() ? List.of() : scorer.score(ids);
            return !block.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Row r = block.get(next);
            Scorer.Score s = scores.get(next);
            next++;
            int n = r.size();
            boolean top = scorer.topK() > 0;
            Object[] v = new Object[n + (top ? 5 : 4)];
            for (int i = 0; i < n; i++) {
                v[i] = r.get(i);
            }
            v[n] = s.tokens();
            v[n + 1] = s.logLikelihood();
            v[n + 2] = s.tokens() == 0 ? null : s.perplexity();
            v[n + 3] = s.tokens() == 0 ? null : s.bitsPerToken();
            if (top) {
                List<Row> preds = new ArrayList<>();
                for (int i = 0; i < s.topIds().length; i++) {
                    preds.add(RowFactory.create(scorer.vocab().token(s.topIds()[i]), (double) s.topProbs()[i]));
                }
                v[n + 4] = s.topIds().length == 0 ? null : scala.jdk.javaapi.CollectionConverters.asScala(preds);
            }
            return RowFactory.create(v);
        }
    }
}
