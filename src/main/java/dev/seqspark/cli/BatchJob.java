package dev.seqspark.cli;

import dev.seqspark.spark.SparkOutput;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Option;

/**
 * The options of the batch jobs that run a model over a large input on Spark ({@code score}, {@code predict}), and
 * how they write: Spark's part files in the chosen format, into a folder that is new, empty or an earlier output.
 */
final class BatchJob {
    @Option(names = "--model", paramLabel = "MODEL_DIR", required = true,
            description = "a model directory (what train writes), on any Hadoop file system")
    String model;
    @Option(names = "--input", paramLabel = "PATH", required = true, description = "any Hadoop-FS path: file, folder, glob")
    String input;
    @Option(names = "--output", paramLabel = "DIR", required = true, description = "where Spark writes the part files")
    String output;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl | parquet | csv (default: ${DEFAULT-VALUE})")
    String format;
    @Option(names = "--input-format", defaultValue = "auto",
            description = "the input's format, or auto: by its extension (default: ${DEFAULT-VALUE})")
    String inputFormat;
    @Option(names = "--text-col", defaultValue = "text",
            description = "text column of table input (CSV, JSON, Parquet) (default: ${DEFAULT-VALUE})")
    String textCol;
    @Option(names = "--id-col", description = "id column of table input (default: the record's 0-based position)")
    String idCol;
    @Option(names = "--batch-size", defaultValue = "128", description = "records run together (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--overwrite", description = "replace DIR if it exists (only an earlier output or an empty folder)")
    boolean overwrite;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: as spark-submit set it, else local[*])")
    String master;

    /** The output format, checked with the batch size before anything runs. */
    String outputFormat() {
        String f = format.toLowerCase(Locale.ROOT);
        if (!List.of("jsonl", "parquet", "csv").contains(f)) {
            throw new UserError("--format must be jsonl, parquet or csv, got '" + format + "'");
        }
        if (batchSize <= 0) {
            throw new UserError("--batch-size must be > 0");
        }
        return f;
    }

    /** Refuses an output folder SeqSpark may not replace, before any work. */
    void checkOutput(SparkSession spark) {
        SparkOutput.checkWritable(spark, output, overwrite);
    }

    /** A nested column as CSV can hold it: its JSON text. */
    Column flat(Column c, String name) {
        return outputFormat().equals("csv") ? functions.to_json(c).as(name) : c.as(name);
    }

    /** Runs {@code rows} into the output folder. */
    void write(Dataset<Row> rows) {
        var writer = rows.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
        switch (outputFormat()) {
            case "parquet" -> writer.parquet(output);
            case "csv" -> writer.option("header", "true").csv(output);
            default -> writer.json(output);
        }
    }
}
