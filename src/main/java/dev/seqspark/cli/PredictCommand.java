package dev.seqspark.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.io.ClassifierDir;
import dev.seqspark.io.ClassifierModel;
import dev.seqspark.spark.ClassifierEvaluation;
import dev.seqspark.spark.SequenceClassificationModel;
import dev.seqspark.spark.Sessions;
import dev.seqspark.spark.SparkOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code seqspark predict}: a sequence classifier's prediction for every record of a large input, on Spark. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Predict every record of PATH with a classifier (train --task classify): id, prediction (the label",
                "name) and probability (per label); null for a record without a token. Text input: one record per line,",
                "id = 0-based line number; tsv: label<TAB>text lines; CSV/JSON/Parquet: --text-col (and --id-col). With",
                "labels (tsv, or --label-col) the last line also gives accuracy, macro-F1 and the confusion matrix."})
public final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "MODEL_DIR", required = true, description = "a classifier's model directory")
    String model;
    @Option(names = "--input", paramLabel = "PATH", required = true, description = "any Hadoop-FS path: file, folder, glob")
    String input;
    @Option(names = "--output", paramLabel = "DIR", required = true, description = "where Spark writes the part files")
    String output;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl | parquet | csv (default: ${DEFAULT-VALUE})")
    String format;
    @Option(names = "--input-format", defaultValue = "auto",
            description = "text | tsv | csv | json | parquet | auto (by extension; text otherwise) (default: ${DEFAULT-VALUE})")
    String inputFormat;
    @Option(names = "--text-col", defaultValue = "text", description = "text column of CSV/JSON/Parquet input (default: ${DEFAULT-VALUE})")
    String textCol;
    @Option(names = "--id-col", description = "id column of CSV/JSON/Parquet input (default: the record's 0-based position)")
    String idCol;
    @Option(names = "--label-col", description = "a label column to evaluate against (tsv input: the part before the tab)")
    String labelCol;
    @Option(names = "--batch-size", defaultValue = "128", description = "records predicted together (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--overwrite", description = "replace DIR if it exists (only an earlier output or an empty folder)")
    boolean overwrite;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: as spark-submit set it, else local[*])")
    String master;

    @Override
    public Integer call() {
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!List.of("jsonl", "parquet", "csv").contains(fmt)) {
            throw new UserError("--format must be jsonl, parquet or csv, got '" + format + "'");
        }
        if (batchSize <= 0) {
            throw new UserError("--batch-size must be > 0");
        }
        ClassifierModel m = ClassifierDir.readForInference(Locations.of(model));   // a bad model fails before Spark starts
        String in = ClassifyInput.format(inputFormat, input, false);
        String source = Locations.input(input, "the input", false);   // where the default file system says
        String label = labelCol != null ? labelCol : in.equals("tsv") ? "label" : null;
        try (Sessions.Handle session = Sessions.open("seqspark predict", master);
             Sessions.Setting splits = Sessions.evenSplits(session.spark(), Locations.bytes(source))) {
            SparkSession spark = session.spark();
            SparkOutput.checkWritable(spark, output, overwrite);
            long t0 = System.nanoTime();
            spark.sparkContext().setJobDescription("seqspark predict: " + model + " on " + source + " -> " + output);
            String text = in.equals("text") || in.equals("tsv") ? "text" : textCol;
            Dataset<Row> records = ClassifyInput.unlabelled(spark, source, in, text, label == null ? "label" : label, idCol);
            if (label != null && !Arrays.asList(records.columns()).contains(label)) {
                throw new UserError("the input has no label column '" + label + "' (columns: "
                        + String.join(", ", records.columns()) + ")");
            }
            Dataset<Row> scored = new SequenceClassificationModel(m).setTextCol(text).setBatchSize(batchSize)
                    .setRawPredictionCol("").setPredictionCol("__prediction").setProbabilityCol("__probability")
                    .transform(records);
            Column[] names = m.labels().stream().map(functions::lit).toArray(Column[]::new);
            Column labels = functions.array(names);
            List<Column> cols = new ArrayList<>(List.of(functions.col("id"),
                    functions.when(functions.col("__prediction").isNotNull(),
                            functions.element_at(labels, functions.col("__prediction").cast("int").plus(1))).as("prediction")));
            Column prob = functions.when(functions.col("__probability").isNotNull(), functions.map_from_arrays(labels,
                    org.apache.spark.ml.functions.vector_to_array(functions.col("__probability"), "float64")));
            cols.add(fmt.equals("csv") ? functions.to_json(prob).as("probability") : prob.as("probability"));
            if (label != null) {
                cols.add(functions.col(label).as("label"));
            }
            ClassifierEvaluation.Observed used = ClassifierEvaluation.observe(scored, label, "__prediction", m.labels());
            var writer = used.dataset().select(cols.toArray(Column[]::new)).write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
            switch (fmt) {
                case "parquet" -> writer.parquet(output);
                case "csv" -> writer.option("header", "true").csv(output);
                default -> writer.json(output);
            }
            ClassifierEvaluation.Summary s = used.summary();
            double seconds = (System.nanoTime() - t0) / 1e9;
            ObjectNode line = label != null ? ClassifyTrain.summaryJson(s, m.labels()) : new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
            line.put("records", s.records());
            line.put("no_token", s.noToken());
            line.put("seconds", Math.round(seconds * 1000) / 1000.0);
            line.put("records_per_second", Math.round(s.records() / seconds));
            line.put("executor_cores", spark.sparkContext().defaultParallelism());
            if (label != null && s.unseen() > 0) {
                System.err.printf("predict: %,d record(s) have labels the model does not have (its labels: %s); they are "
                        + "predicted, and left out of accuracy and macro-F1%n", s.unseen(),
                        m.labels().subList(0, Math.min(10, m.labels().size())));
            }
            if (label != null && s.metrics() != null && s.metrics().confusion() != null) {
                System.err.println(s.metrics().confusionTable(m.labels()).lines().map(l -> "predict:   " + l)
                        .reduce((a, b) -> a + "\n" + b).orElse(""));
            }
            System.out.println(line);
        }
        return 0;
    }
}
