package dev.seqspark.cli;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.Generator;
import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.spark.JobProgress;
import dev.seqspark.spark.Sessions;
import dev.seqspark.spark.SparkOutput;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.Seeds;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code seqspark generate}: text from a prefix (here), or from every line of a file of prefixes (on Spark). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text as d2l's predict_ch8: warm up on the prefix, then emit --length tokens,",
                "greedy (temperature 0) or sampled (temperature, top-k, seed). With --prefixes, one record per",
                "line of PATH is generated on Spark and written as JSON lines (id, prefix, text) to --output,",
                "with progress on stderr every --progress seconds."})
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "MODEL_DIR", required = true,
            description = "a SeqSpark model directory, on any Hadoop file system")
    String model;

    static final class Source {
        @Option(names = "--prefix", paramLabel = "TEXT", description = "one prefix; the text goes to stdout")
        String prefix;
        @Option(names = "--prefixes", paramLabel = "PATH", description = "a file of prefixes, one per line (Spark)")
        String prefixes;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--output", paramLabel = "DIR", description = "with --prefixes: where the JSON lines go")
    String output;
    @Option(names = "--length", defaultValue = "100", description = "tokens to generate (default: ${DEFAULT-VALUE})")
    int length;
    @Option(names = "--temperature", defaultValue = "0", description = "0: greedy; else sample from softmax(logits/T) (default: ${DEFAULT-VALUE})")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "sample among the k most likely tokens; 0: all (default: ${DEFAULT-VALUE})")
    int topK;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--overwrite", description = "replace --output if it exists")
    boolean overwrite;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master for --prefixes (default: local[*])")
    String master;
    @Option(names = "--progress", paramLabel = "SECONDS", defaultValue = "10",
            description = "with --prefixes: a progress line on stderr every SECONDS; 0: only the last one (default: ${DEFAULT-VALUE})")
    double progressSeconds;

    @Override
    public Integer call() {
        Model<LanguageModelSpec> m = ModelDir.readForInference(Locations.of(model), LanguageModelSpec.class);   // before anything else: a bad model is refused in one line
        Generator.Sampling sampling = new Generator.Sampling(temperature, topK, seed);
        if (length < 0) {
            throw new UserError("--length must be non-negative");
        }
        if (!(progressSeconds >= 0)) {
            throw new UserError("--progress must be >= 0 seconds");
        }
        if (source.prefix != null) {
            System.out.println(generate(m, source.prefix, length, sampling));
            return 0;
        }
        if (output == null) {
            throw new UserError("--prefixes needs --output DIR");
        }
        String prefixes = Locations.input(source.prefixes, "the prefixes file", false);
        try (Sessions.Handle session = Sessions.open("seqspark generate", master)) {
            SparkSession spark = session.spark();
            SparkOutput.checkWritable(spark, output, overwrite);   // a user's folder is never replaced
            long t0 = System.nanoTime();
            var sc = spark.sparkContext();
            Broadcast<Model<LanguageModelSpec>> b = JavaSparkContext.fromSparkContext(sc).broadcast(m);
            int n = length;
            double temp = temperature;
            int k = topK;
            long s = seed;
            sc.setJobDescription("seqspark generate: number the prefixes of " + prefixes);
            JavaPairRDD<Row, Long> numbered = spark.read().text(prefixes).javaRDD().zipWithIndex();
            long done;
            long generated;
            try (JobProgress progress = JobProgress.start(spark, "seqspark-generate", Locations.bytes(prefixes));
                 ProgressReporter reporter = ProgressReporter.every(progressSeconds, "generate", "prefixes",
                         "tokens generated", progress)) {
                sc.setJobGroup(progress.group(), "seqspark generate: " + model + " on " + prefixes + " -> " + output, false);
                JobProgress.Counters counters = progress.counters();
                JavaRDD<Row> rows = numbered.mapPartitions(it -> {
                    List<Row> out = new ArrayList<>();
                    while (it.hasNext()) {
                        var t = it.next();
                        String prefix = t._1().getString(0);
                        Generator.Sampling per = new Generator.Sampling(temp, k, Seeds.derive(s, t._2()));
                        String text = generate(b.value(), prefix, n, per);
                        out.add(RowFactory.create(t._2(), prefix, text));
                        counters.add(1, text == null ? 0 : n);
                    }
                    Iterator<Row> r = out.iterator();
                    return r;
                });
                StructType schema = new StructType().add("id", DataTypes.LongType).add("prefix", DataTypes.StringType)
                        .add("text", DataTypes.StringType, true);
                spark.createDataFrame(rows, schema).write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                        .json(output);
                done = counters.records().value();
                generated = counters.tokens().value();
            } finally {
                sc.clearJobGroup();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.err.printf(Locale.ROOT, "generate: %,d prefixes  %,d tokens generated  done in %s (%,.0f tokens/s); "
                    + "written to %s%n", done, generated, ProgressReporter.duration(seconds), generated / seconds, output);
        }
        return 0;
    }

    /** The prefix followed by the generated text (null for a prefix with no tokens). */
    static String generate(Model<LanguageModelSpec> m, String prefix, int length, Generator.Sampling sampling) {
        List<String> toks = m.tokenizer().textTokens(prefix);
        if (toks.isEmpty()) {
            return null;
        }
        LanguageModel lm = new LanguageModel(m.spec(), m.params());
        int[] ids = Generator.generate(lm, m.vocab().encode(toks), length, sampling);
        return detokenize(m, ids);
    }

    /** Token ids as text: characters joined, words with a space between (none around a newline). */
    static String detokenize(Model<?> model, int[] ids) {
        StringBuilder sb = new StringBuilder();
        boolean words = model.config().tokenizer().level() == TokenizerConfig.Level.WORD;
        for (int i = 0; i < ids.length; i++) {
            String t = model.vocab().token(ids[i]);
            if (words && i > 0 && !t.equals(Tokenizer.NEWLINE) && sb.length() > 0 && sb.charAt(sb.length() - 1) != '\n') {
                sb.append(' ');
            }
            sb.append(t);
        }
        return sb.toString();
    }
}
