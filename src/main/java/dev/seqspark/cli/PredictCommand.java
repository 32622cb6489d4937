package dev.seqspark.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.spark.ClassifierEvaluation;
import dev.seqspark.spark.SequenceClassificationModel;
import dev.seqspark.spark.Sessions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seqspark predict}: a sequence classifier's prediction for every record of a large input, on Spark. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Predict every record of PATH with a classifier (train --task classify): id, prediction (the label",
                "name) and probability (per label); null for a record without a token. Text input: one record per line,",
                "id = 0-based line number; tsv: label<TAB>text lines; CSV/JSON/Parquet: --text-col (and --id-col). With",
                "labels (tsv, or --label-col) the last line also gives accuracy, macro-F1 and the confusion matrix."})
public final class PredictCommand implements Callable<Integer> {
    @Mixin
    BatchJob job;
    @Option(names = "--label-col", description = "a label column to evaluate against (tsv input: the part before the tab)")
    String labelCol;

    @Override
    public Integer call() {
        job.outputFormat();
        // A bad model fails before Spark starts.
        Model<ClassifierSpec> m = ModelDir.readForInference(Locations.of(job.model), ClassifierSpec.class);
        String in = Inputs.format(job.inputFormat, job.input, Inputs.PREDICTION);
        String source = Locations.input(job.input, "the input", false);   // where the default file system says
        String label = labelCol != null ? labelCol : in.equals("tsv") ? "label" : null;
        try (Sessions.Handle session = Sessions.open("seqspark predict", job.master);
             Sessions.Setting splits = Sessions.evenSplits(session.spark(), Locations.bytes(source))) {
            SparkSession spark = session.spark();
            job.checkOutput(spark);
            long t0 = System.nanoTime();
            spark.sparkContext().setJobDescription("seqspark predict: " + job.model + " on " + source + " -> " + job.output);
            String text = in.equals("text") || in.equals("tsv") ? "text" : job.textCol;
            Dataset<Row> records = Inputs.unlabelled(spark, source, in, text, label == null ? "label" : label, job.idCol);
            if (label != null && !Arrays.asList(records.columns()).contains(label)) {
                throw new UserError("the input has no label column '" + label + "' (columns: "
                        + String.join(", ", records.columns()) + ")");
            }
            Dataset<Row> scored = new SequenceClassificationModel(m).setTextCol(text).setBatchSize(job.batchSize)
                    .setRawPredictionCol("").setPredictionCol("__prediction").setProbabilityCol("__probability")
                    .transform(records);
            Column[] names = m.labels().stream().map(functions::lit).toArray(Column[]::new);
            Column labels = functions.array(names);
            List<Column> cols = new ArrayList<>(List.of(functions.col("id"),
                    functions.when(functions.col("__prediction").isNotNull(),
                            functions.element_at(labels, functions.col("__prediction").cast("int").plus(1))).as("prediction")));
            Column prob = functions.when(functions.col("__probability").isNotNull(), functions.map_from_arrays(labels,
                    org.apache.spark.ml.functions.vector_to_array(functions.col("__probability"), "float64")));
            cols.add(job.flat(prob, "probability"));
            if (label != null) {
                cols.add(functions.col(label).as("label"));
            }
            ClassifierEvaluation.Observed used = ClassifierEvaluation.observe(scored, label, "__prediction", m.labels());
            job.write(used.dataset().select(cols.toArray(Column[]::new)));
            ClassifierEvaluation.Summary s = used.summary();
            double seconds = (System.nanoTime() - t0) / 1e9;
            ObjectNode line = label != null ? TrainCommand.summaryJson(s, m.labels()) : new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
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
