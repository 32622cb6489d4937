package dev.seqspark.spark;

import dev.seqspark.model.ClassifierSpec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;

/**
 * The classes of a classification task and how a label column's values map to them.
 * <ul>
 *   <li>A string column is indexed as Spark's {@code StringIndexer} indexes it (stringOrderType
 *       {@code frequencyDesc}): the most frequent label is class 0, ties in alphabetical order (String.compareTo);
 *       the names are the strings.</li>
 *   <li>A numeric column holds class indices already (e.g. the output of a StringIndexer stage in a Pipeline, or
 *       Spark ML's convention 0.0, 1.0, …): the names come from its nominal ML attribute when it has one, else
 *       they are "0", "1", … up to the largest value; every value must be an integer in [0, classes).</li>
 * </ul>
 * A null label is an error (as StringIndexer's default handleInvalid), and so are fewer than two classes.
 */
public record Labels(List<String> names, boolean numeric) implements Serializable {
    public Labels {
        names = List.copyOf(names);
    }

    /** The classes of {@code labelCol} in {@code data} (one Spark job: the counts per distinct label). */
    public static Labels fit(Dataset<Row> data, String labelCol) {
        StructField f = field(data, labelCol, "label");
        long nulls = data.filter(functions.col(labelCol).isNull()).count();
        if (nulls > 0) {
            throw new IllegalArgumentException("the label column '" + labelCol + "' is null in " + nulls
                    + " record(s); every training record needs a label");
        }
        if (f.dataType() instanceof NumericType) {
            return numeric(data, labelCol, f);
        }
        if (!f.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the label column '" + labelCol + "' is "
                    + f.dataType().simpleString() + "; expected a string (a label name) or a number (a class index)");
        }
        List<Row> counts = data.groupBy(functions.col(labelCol)).count().collectAsList();
        List<Object[]> byFreq = new ArrayList<>();
        for (Row r : counts) {
            byFreq.add(new Object[] {r.getString(0), r.getLong(1)});
        }
        byFreq.sort(Comparator.comparingLong((Object[] a) -> -(Long) a[1]).thenComparing(a -> (String) a[0]));
        List<String> names = new ArrayList<>();
        for (Object[] a : byFreq) {
            names.add((String) a[0]);
        }
        return check(new Labels(names, false), labelCol);
    }

    private static Labels numeric(Dataset<Row> data, String labelCol, StructField f) {
        Attribute a = Attribute.fromStructField(f);
        if (a instanceof NominalAttribute n && n.values().isDefined()) {
            return check(new Labels(Arrays.asList(n.values().get()), true), labelCol);
        }
        Row r = data.agg(functions.max(functions.col(labelCol).cast("double")),
                functions.min(functions.col(labelCol).cast("double"))).first();
        if (r.isNullAt(0)) {
            throw new IllegalArgumentException("the label column '" + labelCol + "' has no values");
        }
        double max = r.getDouble(0);
        double min = r.getDouble(1);
        if (min < 0 || max != Math.rint(max) || max >= ClassifierSpec.MAX_CLASSES) {
            throw new IllegalArgumentException("the numeric label column '" + labelCol + "' must hold class indices 0, 1, … "
                    + "below " + ClassifierSpec.MAX_CLASSES + " (found values from " + min + " to " + max
                    + "); index string labels with a StringIndexer, or give them as strings");
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c <= (int) max; c++) {
            names.add(String.valueOf(c));
        }
        return check(new Labels(names, true), labelCol);
    }

    private static Labels check(Labels l, String labelCol) {
        if (l.names.size() < 2) {
            throw new IllegalArgumentException("the label column '" + labelCol + "' has a single class"
                    + (l.names.isEmpty() ? " (no records)" : " '" + l.names.get(0) + "'")
                    + "; a classifier needs at least two");
        }
        if (l.names.size() > ClassifierSpec.MAX_CLASSES) {
            throw new IllegalArgumentException("the label column '" + labelCol + "' has " + l.names.size()
                    + " classes, more than " + ClassifierSpec.MAX_CLASSES);
        }
        if (l.names.stream().anyMatch(s -> s.isEmpty() || s.length() > 1000)) {
            throw new IllegalArgumentException("label names must have 1 to 1000 characters; '" + labelCol
                    + "' has an empty or longer one");
        }
        return l;
    }

    /** The field {@code col} of {@code data}, or a clear error naming the columns there are. */
    static StructField field(Dataset<Row> data, String col, String what) {
        if (!Arrays.asList(data.columns()).contains(col)) {
            throw new IllegalArgumentException("the input has no " + what + " column '" + col + "' (columns: "
                    + String.join(", ", data.columns()) + ")");
        }
        return data.schema().apply(col);
    }

    public int size() {
        return names.size();
    }

    /** Maps a label column's values to class indices on an executor; -1 for a value that is not a class. */
    public Indexer indexer() {
        return new Indexer(this);
    }

    /** Not serializable on purpose: built where it is used from the (serializable) Labels. */
    public static final class Indexer {
        private final Labels labels;
        private final Map<String, Integer> index = new HashMap<>();

        Indexer(Labels labels) {
            this.labels = labels;
            for (int i = 0; i < labels.names.size(); i++) {
                index.put(labels.names.get(i), i);
            }
        }

        /** The class of {@code row}'s value at {@code i}: -1 when null, not a class, or not an index in range. */
        public int classOf(Row row, int i) {
            if (row.isNullAt(i)) {
                return -1;
            }
            Object v = row.get(i);
            if (labels.numeric) {
                double d = ((Number) v).doubleValue();
                return d >= 0 && d < labels.names.size() && d == Math.rint(d) ? (int) d : -1;
            }
            Integer c = index.get(v.toString());
            return c == null ? -1 : c;
        }
    }
}
