package dev.seqspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.spark.JobProgress;
import dev.seqspark.spark.LanguageModelScorer;
import dev.seqspark.spark.Sessions;
import dev.seqspark.spark.SparkOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code seqspark score}: log-likelihood and perplexity of every record of a large text, on Spark. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score every record of PATH with a trained model: tokens, log_likelihood, perplexity,",
                "bits_per_token (and top_k). Text input: one record per line, id = 0-based line number.",
                "Parquet/JSON input: --text-col (and --id-col). Progress goes to stderr every --progress seconds;",
                "one JSON line of totals goes to stdout when done."})
public final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "MODEL_DIR", required = true,
            description = "a SeqSpark model directory, on any Hadoop file system")
    String model;
    @Option(names = "--input", paramLabel = "PATH", required = true, description = "any Hadoop-FS path: file, folder, glob")
    String input;
    @Option(names = "--output", paramLabel = "DIR", required = true, description = "where Spark writes the part files")
    String output;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl | parquet | csv (default: ${DEFAULT-VALUE})")
    String format;
    @Option(names = "--input-format", defaultValue = "auto",
            description = "text | parquet | json | auto (by extension; text otherwise) (default: ${DEFAULT-VALUE})")
    String inputFormat;
    @Option(names = "--text-col", defaultValue = "text", description = "text column of Parquet/JSON input (default: ${DEFAULT-VALUE})")
    String textCol;
    @Option(names = "--id-col", description = "id column of Parquet/JSON input (default: the record's 0-based position)")
    String idCol;
    @Option(names = "--top-k", defaultValue = "0", description = "next-token predictions after each record (default: ${DEFAULT-VALUE})")
    int topK;
    @Option(names = "--batch-size", defaultValue = "128", description = "records scored together (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--overwrite", description = "replace DIR if it exists")
    boolean overwrite;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: as spark-submit set it, else local[*])")
    String master;
    @Option(names = "--progress", paramLabel = "SECONDS", defaultValue = "10",
            description = "a progress line on stderr every SECONDS while scoring; 0: only the last one (default: ${DEFAULT-VALUE})")
    double progressSeconds;

    @Override
    public Integer call() throws InterruptedException {
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!List.of("jsonl", "parquet", "csv").contains(fmt)) {
            throw new UserError("--format must be jsonl, parquet or csv, got '" + format + "'");
        }
        if (topK < 0 || batchSize <= 0) {
            throw new UserError("--top-k must be >= 0 and --batch-size > 0");
        }
        if (!(progressSeconds >= 0)) {
            throw new UserError("--progress must be >= 0 seconds");
        }
        Model m = ModelDir.readForInference(Locations.of(model));  // a bad model fails here, before Spark starts or writes anything
        String in = inputFormat.toLowerCase(Locale.ROOT);
        if (in.equals("auto")) {
            String p = input.toLowerCase(Locale.ROOT);
            in = p.endsWith(".parquet") ? "parquet" : p.endsWith(".json") || p.endsWith(".jsonl") ? "json" : "text";
        }
        if (!List.of("text", "parquet", "json").contains(in)) {
            throw new UserError("--input-format must be text, parquet, json or auto, got '" + inputFormat + "'");
        }
        String source = Locations.input(input, "the input", false);   // where the default file system says
        long inputBytes = Locations.bytes(source);
        try (Sessions.Handle session = Sessions.open("seqspark score", master);
             Sessions.Setting splits = Sessions.evenSplits(session.spark(), inputBytes)) {
            SparkSession spark = session.spark();
            SparkOutput.checkWritable(spark, output, overwrite);   // a user's folder is never replaced
            long t0 = System.nanoTime();
            var sc = spark.sparkContext();
            if (in.equals("text") || idCol == null) {
                System.err.println("score: numbering the records of " + source);
                sc.setJobDescription("seqspark score: number the records of " + source);
            }
            Dataset<Row> rows = read(spark, in, source);
            String id = idCol != null && !in.equals("text") ? idCol : "id";
            LanguageModelScorer scorer = new LanguageModelScorer(m).setTextCol(in.equals("text") ? "text" : textCol)
                    .setTopK(topK).setBatchSize(batchSize);
            List<Column> cols = new ArrayList<>(List.of(functions.col(id).as("id"), functions.col("tokens"),
                    functions.col("log_likelihood"), functions.col("perplexity"), functions.col("bits_per_token")));
            if (topK > 0) {
                cols.add(fmt.equals("csv") ? functions.to_json(functions.col("top_k")).as("top_k") : functions.col("top_k"));
            }
            Observation totals = new Observation("seqspark-score");
            try (JobProgress progress = JobProgress.start(spark, "seqspark-score", inputBytes);
                 ProgressReporter reporter = ProgressReporter.every(progressSeconds, "score", progress)) {
                sc.setJobGroup(progress.group(), "seqspark score: " + model + " on " + source + " -> " + output, false);
                Dataset<Row> scored = scorer.transformCounting(rows, progress.counters())
                        .select(cols.toArray(Column[]::new))
                        .observe(totals, functions.count(functions.lit(1)).as("records"),
                                functions.coalesce(functions.sum("tokens"), functions.lit(0L)).as("tokens"));
                var writer = scored.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
                switch (fmt) {
                    case "parquet" -> writer.parquet(output);
                    case "csv" -> writer.option("header", "true").csv(output);
                    default -> writer.json(output);
                }
            } finally {
                sc.clearJobGroup();
            }
            Map<String, Object> t = totals.getAsJava();
            double seconds = (System.nanoTime() - t0) / 1e9;
            long records = ((Number) t.get("records")).longValue();
            long tokens = ((Number) t.get("tokens")).longValue();
            System.err.printf(Locale.ROOT, "score: %,d records  %,d tokens  done in %s (%,.0f tokens/s); written to %s%n",
                    records, tokens, ProgressReporter.duration(seconds), tokens / seconds, output);
            ObjectNode line = new ObjectMapper().createObjectNode();
            line.put("records", records);
            line.put("tokens", tokens);
            line.put("seconds", Math.round(seconds * 1000) / 1000.0);
            line.put("tokens_per_second", Math.round(tokens / seconds));
            line.put("executor_cores", spark.sparkContext().defaultParallelism());
            System.out.println(line);
        }
        return 0;
    }

    /** The input as (id, text, …): text files get their 0-based line numbers as ids, in input order. */
    private Dataset<Row> read(SparkSession spark, String in, String source) {
        if (in.equals("text")) {
            JavaRDD<Row> rows = spark.read().text(source).javaRDD().zipWithIndex()
                    .map(t -> RowFactory.create(t._2(), t._1().getString(0)));
            StructType schema = new StructType().add("id", DataTypes.LongType, false).add("text", DataTypes.StringType, true);
            return spark.createDataFrame(rows, schema);
        }
        Dataset<Row> df = spark.read().format(in).load(source);
        if (!List.of(df.columns()).contains(textCol)) {
            throw new UserError("input has no column '" + textCol + "' (columns: " + String.join(", ", df.columns())
                    + "); name it with --text-col");
        }
        if (idCol != null) {
            if (!List.of(df.columns()).contains(idCol)) {
                throw new UserError("input has no column '" + idCol + "' for --id-col");
            }
            return df;
        }
        return withPositionIds(spark, df);
    }

    /** {@code df} with a last column {@code id}: each row's 0-based position in input order (zipWithIndex). */
    static Dataset<Row> withPositionIds(SparkSession spark, Dataset<Row> df) {
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
}
