package dev.seqspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.spark.JobProgress;
import dev.seqspark.spark.LanguageModelScorer;
import dev.seqspark.spark.Sessions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seqspark score}: log-likelihood and perplexity of every record of a large text, on Spark. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score every record of PATH with a trained model: tokens, log_likelihood, perplexity,",
                "bits_per_token (and top_k). Text input: one record per line, id = 0-based line number.",
                "Parquet/JSON input (--input-format text | parquet | json | auto): --text-col (and --id-col). Progress goes",
                "to stderr every --progress seconds;",
                "one JSON line of totals goes to stdout when done."})
public final class ScoreCommand implements Callable<Integer> {
    @Mixin
    BatchJob job;
    @Option(names = "--top-k", defaultValue = "0", description = "next-token predictions after each record (default: ${DEFAULT-VALUE})")
    int topK;
    @Option(names = "--progress", paramLabel = "SECONDS", defaultValue = "10",
            description = "a progress line on stderr every SECONDS while scoring; 0: only the last one (default: ${DEFAULT-VALUE})")
    double progressSeconds;

    @Override
    public Integer call() throws InterruptedException {
        job.outputFormat();
        if (topK < 0) {
            throw new UserError("--top-k must be >= 0");
        }
        if (!(progressSeconds >= 0)) {
            throw new UserError("--progress must be >= 0 seconds");
        }
        // A bad model fails here, before Spark starts or writes anything.
        Model<LanguageModelSpec> m = ModelDir.readForInference(Locations.of(job.model), LanguageModelSpec.class);
        String in = Inputs.format(job.inputFormat, job.input, Inputs.SCORING);
        String source = Locations.input(job.input, "the input", false);   // where the default file system says
        long inputBytes = Locations.bytes(source);
        try (Sessions.Handle session = Sessions.open("seqspark score", job.master);
             Sessions.Setting splits = Sessions.evenSplits(session.spark(), inputBytes)) {
            SparkSession spark = session.spark();
            job.checkOutput(spark);   // a user's folder is never replaced
            long t0 = System.nanoTime();
            var sc = spark.sparkContext();
            if (in.equals("text") || job.idCol == null) {
                System.err.println("score: numbering the records of " + source);
                sc.setJobDescription("seqspark score: number the records of " + source);
            }
            String text = in.equals("text") ? "text" : job.textCol;
            Dataset<Row> rows = Inputs.unlabelled(spark, source, in, text, null, job.idCol);
            LanguageModelScorer scorer = new LanguageModelScorer(m).setTextCol(text).setTopK(topK)
                    .setBatchSize(job.batchSize);
            List<Column> cols = new ArrayList<>(List.of(functions.col("id"), functions.col("tokens"),
                    functions.col("log_likelihood"), functions.col("perplexity"), functions.col("bits_per_token")));
            if (topK > 0) {
                cols.add(job.flat(functions.col("top_k"), "top_k"));
            }
            Observation totals = new Observation("seqspark-score");
            try (JobProgress progress = JobProgress.start(spark, "seqspark-score", inputBytes);
                 ProgressReporter reporter = ProgressReporter.every(progressSeconds, "score", progress)) {
                sc.setJobGroup(progress.group(), "seqspark score: " + job.model + " on " + source + " -> " + job.output, false);
                job.write(scorer.transformCounting(rows, progress.counters())
                        .select(cols.toArray(Column[]::new))
                        .observe(totals, functions.count(functions.lit(1)).as("records"),
                                functions.coalesce(functions.sum("tokens"), functions.lit(0L)).as("tokens")));
            } finally {
                sc.clearJobGroup();
            }
            Map<String, Object> t = totals.getAsJava();
            double seconds = (System.nanoTime() - t0) / 1e9;
            long records = ((Number) t.get("records")).longValue();
            long tokens = ((Number) t.get("tokens")).longValue();
            System.err.printf(Locale.ROOT, "score: %,d records  %,d tokens  done in %s (%,.0f tokens/s); written to %s%n",
                    records, tokens, ProgressReporter.duration(seconds), tokens / seconds, job.output);
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
}
