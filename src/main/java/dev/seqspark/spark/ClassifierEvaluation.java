package dev.seqspark.spark;

import dev.seqspark.train.ClassMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Accuracy, macro-F1 and the confusion matrix of predictions against a label column, counted while the predictions
 * stream to their writer (a Spark {@link Observation}: one pass, nothing collected but the counts). Records whose
 * label is not one of the model's classes are counted apart ({@code unseen}) and left out of the metrics, as are
 * records without a label and records without a token (no prediction). Per-class counts (hence macro-F1) are kept up
 * to {@value #MAX_PER_CLASS} classes, the confusion matrix up to {@value #MAX_CONFUSION}.
 */
public final class ClassifierEvaluation {
    static final int MAX_PER_CLASS = 100;
    static final int MAX_CONFUSION = 20;

    /** The counts: every record, those without a token, without a label, with an unseen label, and the metrics of the rest. */
    public record Summary(long records, long noToken, long unlabelled, long unseen, long evaluated, long correct,
                          ClassMetrics metrics) {
        public double accuracy() {
            return evaluated == 0 ? Double.NaN : (double) correct / evaluated;
        }

        /** NaN above {@value #MAX_PER_CLASS} classes. */
        public double macroF1() {
            return metrics == null ? Double.NaN : metrics.macroF1();
        }
    }

    /** A dataset to run (write, or count) and the observation that fills in as it runs. */
    public record Observed(Dataset<Row> dataset, Observation observation, int classes) {
        /** The counts; blocks until the dataset has been run once. */
        public Summary summary() {
            Map<String, Object> v;
            try {
                v = observation.getAsJava();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the evaluation's counts", e);
            }
            long correct = n(v, "correct");
            ClassMetrics m = null;
            if (classes <= MAX_PER_CLASS) {
                long[] tp = new long[classes];
                long[] actual = new long[classes];
                long[] predicted = new long[classes];
                for (int c = 0; c < classes; c++) {
                    tp[c] = n(v, "t" + c);
                    actual[c] = n(v, "a" + c);
                    predicted[c] = n(v, "p" + c);
                }
                long[] confusion = null;
                if (classes <= MAX_CONFUSION) {
                    confusion = new long[classes * classes];
                    for (int i = 0; i < classes; i++) {
                        for (int j = 0; j < classes; j++) {
                            confusion[i * classes + j] = n(v, "m" + i + "_" + j);
                        }
                    }
                }
                m = ClassMetrics.fromCounts(tp, actual, predicted, confusion);
            }
            return new Summary(n(v, "records"), n(v, "no_token"), n(v, "unlabelled"), n(v, "unseen"), n(v, "evaluated"),
                    correct, m);
        }

        private static long n(Map<String, Object> v, String k) {
            Object o = v.get(k);
            return o == null ? 0 : ((Number) o).longValue();
        }
    }

    private ClassifierEvaluation() {}

    /**
     * {@code scored} (with {@code predictionCol}, a class index or null, and {@code labelCol}, a label name or null)
     * observed: run the returned dataset once, then read {@link Observed#summary()}. {@code labelCol} null: only
     * the records and those without a token are counted.
     */
    public static Observed observe(Dataset<Row> scored, String labelCol, String predictionCol, List<String> labels) {
        if (labelCol == null) {    // no labels: the counts of records and of records without a token only
            Observation o = new Observation("seqspark-evaluation-" + java.util.UUID.randomUUID());
            Column pred = functions.col(predictionCol);
            return new Observed(scored.observe(o, count(functions.lit(true)).as("records"),
                    count(pred.isNull()).as("no_token")), o, Integer.MAX_VALUE);
        }
        Column[] names = labels.stream().map(functions::lit).toArray(Column[]::new);
        // 1-based position among the classes; 0: not a class; null: no label.
        Column li = functions.array_position(functions.array(names), functions.col(labelCol).cast("string")).minus(1);
        Column pred = functions.col(predictionCol);
        Column hasPred = pred.isNotNull();
        Column known = li.geq(0).and(hasPred);
        List<Column> agg = new ArrayList<>(List.of(
                count(functions.lit(true)).as("records"),
                count(pred.isNull()).as("no_token"),
                count(functions.col(labelCol).isNull()).as("unlabelled"),
                count(li.equalTo(-1)).as("unseen"),
                count(known).as("evaluated"),
                count(known.and(li.equalTo(pred))).as("correct")));
        int c = labels.size();
        if (c <= MAX_PER_CLASS) {
            for (int k = 0; k < c; k++) {
                agg.add(count(known.and(li.equalTo(k))).as("a" + k));
                agg.add(count(known.and(pred.equalTo(k))).as("p" + k));
                agg.add(count(known.and(li.equalTo(k)).and(pred.equalTo(k))).as("t" + k));
            }
        }
        if (c <= MAX_CONFUSION) {
            for (int i = 0; i < c; i++) {
                for (int j = 0; j < c; j++) {
                    agg.add(count(known.and(li.equalTo(i)).and(pred.equalTo(j))).as("m" + i + "_" + j));
                }
            }
        }
        Observation o = new Observation("seqspark-evaluation-" + java.util.UUID.randomUUID());
        Dataset<Row> d = scored.observe(o, agg.get(0), agg.subList(1, agg.size()).toArray(Column[]::new));
        return new Observed(d, o, c);
    }

    private static Column count(Column condition) {
        return functions.coalesce(functions.sum(functions.when(condition, 1L).otherwise(0L)), functions.lit(0L));
    }
}
