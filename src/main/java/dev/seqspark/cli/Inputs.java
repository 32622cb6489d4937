package dev.seqspark.cli;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Records from a Hadoop-FS path (file, folder, glob), as train, score and predict read them:
 * <ul>
 *   <li>{@code tsv}: text files of {@code label<TAB>text} lines (the first tab separates them); blank lines are not
 *       records. For training every other line must have a tab; for prediction a line without one is a text
 *       without a label.</li>
 *   <li>{@code text} (scoring and prediction): every line is a text, blank ones included.</li>
 *   <li>{@code csv} (with a header; every column a string), {@code json} (JSON lines), {@code parquet}: the named
 *       text (and label) columns.</li>
 * </ul>
 * {@code auto} goes by the extension among the formats a command reads (.csv, .json/.jsonl, .parquet, .tsv), else
 * its first. Text and tsv records get {@code id} = their 0-based line number, in input order.
 */
final class Inputs {
    /** What training reads, and what prediction reads; scoring reads text, json or parquet. */
    static final List<String> TRAINING = List.of("tsv", "csv", "json", "parquet");
    static final List<String> PREDICTION = List.of("text", "tsv", "csv", "json", "parquet");
    static final List<String> SCORING = List.of("text", "parquet", "json");

    private Inputs() {}

    /** {@code format}, one of {@code allowed}, or for {@code auto} the one {@code path}'s extension names (else the first). */
    static String format(String format, String path, List<String> allowed) {
        String f = format.toLowerCase(Locale.ROOT);
        if (!f.equals("auto")) {
            if (!allowed.contains(f)) {
                throw new UserError("unknown input format '" + format + "'; expected auto, " + String.join(", ", allowed));
            }
            return f;
        }
        String p = path.toLowerCase(Locale.ROOT);
        String byName = p.endsWith(".csv") ? "csv" : p.endsWith(".json") || p.endsWith(".jsonl") ? "json"
                : p.endsWith(".parquet") ? "parquet" : p.endsWith(".tsv") ? "tsv" : allowed.get(0);
        return allowed.contains(byName) ? byName : allowed.get(0);
    }

    /**
     * The training (or validation, test) records: columns {@code textCol} (string) and {@code labelCol} (as string),
     * and any others the input has. A tsv line without a tab is an error naming the first one.
     */
    static Dataset<Row> labelled(SparkSession spark, String path, String format, String textCol, String labelCol) {
        String f = format(format, path, TRAINING);
        if (f.equals("tsv")) {
            Dataset<Row> lines = spark.read().text(path).filter(functions.trim(functions.col("value")).notEqual(""));
            Dataset<Row> noTab = lines.filter(functions.not(functions.col("value").contains("\t")));
            List<Row> bad = noTab.limit(1).collectAsList();
            if (!bad.isEmpty()) {
                long n = noTab.count();
                String line = bad.get(0).getString(0);
                throw new UserError(path + ": " + n + " line(s) without a tab (expected label<TAB>text), e.g. '"
                        + (line.length() > 60 ? line.substring(0, 57) + "..." : line) + "'");
            }
            return split(lines, textCol, labelCol);
        }
        Dataset<Row> d = table(spark, path, f);
        for (String c : List.of(textCol, labelCol)) {
            if (!Arrays.asList(d.columns()).contains(c)) {
                throw new UserError(path + " has no " + (c.equals(textCol) ? "text" : "label") + " column '" + c
                        + "' (columns: " + String.join(", ", d.columns()) + "); name it with data."
                        + (c.equals(textCol) ? "text_col" : "label_col"));
            }
        }
        return d.withColumn(labelCol, functions.col(labelCol).cast("string"))
                .withColumn(textCol, functions.col(textCol).cast("string"));
    }

    /**
     * Records to score or predict in input format {@code f}, with an {@code id} column (the line number, the --id-col
     * column, or the position).
     */
    static Dataset<Row> unlabelled(SparkSession spark, String path, String f, String textCol, String labelCol,
                                   String idCol) {
        if (f.equals("text") || f.equals("tsv")) {
            JavaRDD<Row> rows = spark.read().text(path).javaRDD().zipWithIndex()
                    .map(t -> RowFactory.create(t._2(), t._1().getString(0)));
            Dataset<Row> lines = spark.createDataFrame(rows,
                    new StructType().add("id", DataTypes.LongType, false).add("value", DataTypes.StringType, true));
            if (f.equals("text")) {
                return lines.withColumnRenamed("value", textCol);
            }
            return split(lines, textCol, labelCol).select(functions.col("id"), functions.col(labelCol), functions.col(textCol));
        }
        Dataset<Row> d = table(spark, path, f);
        if (!Arrays.asList(d.columns()).contains(textCol)) {
            throw new UserError(path + " has no column '" + textCol + "' for the text (columns: "
                    + String.join(", ", d.columns()) + "); name it with --text-col");
        }
        d = d.withColumn(textCol, functions.col(textCol).cast("string"));
        if (labelCol != null && Arrays.asList(d.columns()).contains(labelCol)) {
            d = d.withColumn(labelCol, functions.col(labelCol).cast("string"));
        }
        if (idCol != null) {
            if (!Arrays.asList(d.columns()).contains(idCol)) {
                throw new UserError(path + " has no column '" + idCol + "' for --id-col");
            }
            return d.withColumnRenamed(idCol, "id");
        }
        return withPositionIds(spark, d);
    }

    /** {@code df} with a last column {@code id}: each row's 0-based position in input order (zipWithIndex). */
    private static Dataset<Row> withPositionIds(SparkSession spark, Dataset<Row> df) {
        StructType schema = df.schema().add("id", DataTypes.LongType, false);
        JavaRDD<Row> rows = df.javaRDD().zipWithIndex().map(t -> {
            Object[] v = new Object[t._1().size() + 1];
            for (int i = 0; i < t._1().size(); i++) {
                v[i] = t._1().get(i);
            }
            v[v.length - 1] = t._2();
            return RowFactory.create(v);
        });
        return spark.createDataFrame(rows, schema);
    }

    private static Dataset<Row> table(SparkSession spark, String path, String f) {
        return switch (f) {
            case "csv" -> spark.read().option("header", "true").csv(path);
            case "json" -> spark.read().json(path);
            default -> spark.read().parquet(path);
        };
    }

    /** {@code value} at its first tab: label before, text after (a line without a tab: no label, all text). */
    private static Dataset<Row> split(Dataset<Row> lines, String textCol, String labelCol) {
        Column v = functions.col("value");
        Column tab = functions.instr(v, "\t");
        return lines.withColumn(labelCol, functions.when(tab.gt(0), v.substr(functions.lit(1), tab.minus(1))))
                .withColumn(textCol, functions.when(tab.gt(0), v.substr(tab.plus(1), functions.length(v))).otherwise(v))
                .drop("value");
    }
}
