package dev.seqspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.bench.ClassifierBenchmark;
import dev.seqspark.bench.ScoringBenchmark;
import dev.seqspark.bench.TrainingBenchmark;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.Blas;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Pooling;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.train.ClassifierTrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code seqspark bench}: training or scoring throughput of one model on one thread; last line is JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Training-step throughput (forward + backward through time + clipping + SGD) of a",
                "language model (one-hot or embedding input) on random token ids, on one thread; with --mode score",
                "the Scorer's (forward and log-likelihoods, no Spark); with --task classify a classifier's on real",
                "records; with --gemm the sgemm rate. Progress goes to stderr; the last line on stdout is one JSON object."})
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--cell", defaultValue = "gru", description = "rnn_tanh | rnn_relu | gru | lstm (default: ${DEFAULT-VALUE})")
    String cell;
    @Option(names = "--layers", defaultValue = "1", description = "stacked layers (default: ${DEFAULT-VALUE})")
    int layers;
    @Option(names = "--hidden", defaultValue = "256", description = "hidden size (default: ${DEFAULT-VALUE})")
    int hidden;
    @Option(names = "--batch", defaultValue = "32", description = "sequences per batch (default: ${DEFAULT-VALUE})")
    int batch;
    @Option(names = "--steps", defaultValue = "35", description = "time steps per batch, num_steps (default: ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--vocab", defaultValue = "28", description = "vocabulary size (default: ${DEFAULT-VALUE})")
    int vocab;
    @Option(names = "--embedding", defaultValue = "0", description = "embedding width; 0: one-hot input (default: ${DEFAULT-VALUE})")
    int embedding;
    @Option(names = "--seconds", defaultValue = "10", description = "measured seconds (default: ${DEFAULT-VALUE})")
    double seconds;
    @Option(names = "--warmup", defaultValue = "3", description = "untimed seconds first, for the JIT (default: ${DEFAULT-VALUE})")
    double warmup;
    @Option(names = "--record-tokens", defaultValue = "1025",
            description = "lm --mode score: tokens per record, scored in chunks as a score job does (default: ${DEFAULT-VALUE})")
    int recordTokens;
    @Option(names = "--seed", defaultValue = "0", description = "weights and token seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--task", defaultValue = "lm", description = "lm (random token ids) or classify (--data's records) (default: ${DEFAULT-VALUE})")
    String task;
    @Option(names = "--data", paramLabel = "TSV", description = "classify: label<TAB>text records (e.g. target/authorship/train.tsv)")
    Path data;
    @Option(names = "--blocks", defaultValue = "lstm:128,gru:128", description = "classify: the blocks (default: ${DEFAULT-VALUE})")
    String blocks;
    @Option(names = "--pooling", defaultValue = "last", description = "classify: last | mean | max (default: ${DEFAULT-VALUE})")
    String pooling;
    @Option(names = "--mode", defaultValue = "train",
            description = "lm: train or score (the Scorer alone); classify: train or predict (default: ${DEFAULT-VALUE})")
    String mode;
    @Option(names = "--optimizer", defaultValue = "adam", description = "classify: adam or sgd (default: ${DEFAULT-VALUE})")
    String optimizer;
    @Option(names = "--min-freq", defaultValue = "2", description = "classify: vocabulary min_freq (default: ${DEFAULT-VALUE})")
    int minFreq;
    @Option(names = "--max-vocab", defaultValue = "20000", description = "classify: vocabulary cap (default: ${DEFAULT-VALUE})")
    int maxVocab;

    @Option(names = "--gemm", paramLabel = "MxNxK",
            description = "instead: the sgemm rate (GFLOP/s) of C (M×N) = op(A) (M×K) · op(B) (K×N), operands as --gemm-op says")
    String gemm;

    @Option(names = "--gemm-op", defaultValue = "NT", paramLabel = "OP",
            description = "with --gemm: NT = A·Bᵀ (the head's forward), NN = A (M×K) · B (K×N) (a time step's "
                    + "h·W_hhᵀ and its backward), TN = Aᵀ (A stored K×M) · B (the weight gradients) (default: ${DEFAULT-VALUE})")
    String gemmOp;

    @Override
    public Integer call() throws Exception {
        if (gemm != null) {
            return gemmRate();
        }
        if (task.equals("classify")) {
            return classify();
        }
        if (batch <= 0 || steps <= 0) {
            throw new UserError("--batch and --steps must be positive");
        }
        if (!mode.equals("train") && !mode.equals("score")) {
            throw new UserError("--mode must be train or score for --task lm, got '" + mode + "'");
        }
        if (recordTokens < 2) {
            throw new UserError("--record-tokens must be at least 2");
        }
        if (!(seconds > 0) || !(warmup >= 0)) {
            throw new UserError("--seconds must be positive and --warmup non-negative");
        }
        LanguageModelSpec spec = new LanguageModelSpec(CellType.fromId(cell), vocab, embedding, hidden, layers, true, 0.0);
        System.err.printf("bench: %s, %d layer(s), hidden %d, %s, batch %d, steps %d, vocab %d; BLAS %s%n",
                spec.cell().id, layers, hidden, embedding > 0 ? "embedding " + embedding : "one-hot", batch, steps, vocab,
                Blas.describe());
        TrainingBenchmark.Result r = mode.equals("score")
                ? ScoringBenchmark.run(spec, batch, recordTokens, seconds, warmup, seed,
                        line -> System.err.println("bench: " + line))
                : TrainingBenchmark.run(spec, batch, steps, seconds, warmup, seed,
                        line -> System.err.println("bench: " + line));
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("impl", "seqspark");
        json.put("mode", mode);
        json.put("cell", spec.cell().id);
        json.put("layers", layers);
        json.put("hidden", hidden);
        json.put("batch", batch);
        if (mode.equals("score")) {
            json.put("record_tokens", recordTokens);
        } else {
            json.put("steps", steps);
        }
        json.put("vocab", vocab);
        json.put("embedding", embedding);
        json.put("threads", 1);
        json.put("blas", Blas.shortName());
        json.put("blas_library", Blas.library());
        if (Blas.threads() > 0) {
            json.put("blas_threads", Blas.threads());
        } else {
            json.putNull("blas_threads");
        }
        json.put("tokens", r.tokens());
        json.put("seconds", round(r.seconds(), 3));
        json.put("tokens_per_second", round(r.tokensPerSecond(), 1));
        json.put("tokens_per_cpu_second", round(r.tokensPerCpuSecond(), 1));
        System.out.println(json);
        return 0;
    }

    /**
     * A classifier on --data's records, one thread: training (bucketed batches of --batch records, packed, Adam or
     * SGD, clipping 1.0) or prediction (--batch records at a time). Word tokens, lower-cased, letters only.
     */
    private int classify() throws java.io.IOException {
        if (data == null || !java.nio.file.Files.isRegularFile(data)) {
            throw new UserError("--task classify needs --data, a label<TAB>text file (seqspark passages writes one)");
        }
        var tok = new Tokenizer(new TokenizerConfig(
                TokenizerConfig.Level.WORD, true, true));
        var d = ClassifierBenchmark.encode(java.nio.file.Files.readAllLines(data), tok, minFreq,
                maxVocab, 0);
        var spec = new ClassifierSpec(d.vocab().size(), embedding,
                ClassifierSpec.parseBlocks(blocks), Pooling.fromId(pooling), d.labels().size());
        System.err.printf("bench: classify %s, %s pooling, embedding %d, vocabulary %d, %d records, %,d tokens, batch %d, "
                + "%s; BLAS %s%n", ClassifierSpec.formatBlocks(spec.blocks()), pooling, embedding,
                d.vocab().size(), d.records().size(), d.records().tokenCount(), batch, mode, Blas.describe());
        ClassifierBenchmark.Result r = mode.equals("predict")
                ? ClassifierBenchmark.predict(spec, d.records(), d.vocab(), d.labels(), tok, batch,
                        seconds, warmup)
                : ClassifierBenchmark.train(spec, new ClassifierTrainConfig(batch,
                        optimizer, optimizer.equals("adam") ? 0.002 : 0.5, 1.0, seed, null), d.records(), seconds, warmup,
                        line -> System.err.println("bench: " + line));
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("impl", "seqspark");
        json.put("task", "classify");
        json.put("mode", mode);
        json.put("blocks", blocks);
        json.put("pooling", pooling);
        json.put("embedding", embedding);
        json.put("vocab", d.vocab().size());
        json.put("batch", batch);
        json.put("threads", 1);
        json.put("blas", Blas.shortName());
        json.put("records", r.records());
        json.put("tokens", r.tokens());
        json.put("seconds", round(r.seconds(), 3));
        json.put("cpu_seconds", round(r.cpuSeconds(), 3));
        json.put("tokens_per_second", round(r.tokensPerSecond(), 1));
        json.put("records_per_second", round(r.recordsPerSecond(), 1));
        json.put("tokens_per_cpu_second", round(r.tokens() / r.cpuSeconds(), 1));
        System.out.println(json);
        return 0;
    }

    private int gemmRate() {
        String[] d = gemm.toLowerCase(Locale.ROOT).split("x");
        if (d.length != 3) {
            throw new UserError("--gemm expects MxNxK, e.g. 1120x30000x512");
        }
        int m = Integer.parseInt(d[0]);
        int n = Integer.parseInt(d[1]);
        int k = Integer.parseInt(d[2]);
        String op = gemmOp.toUpperCase(Locale.ROOT);
        if (!List.of("NT", "NN", "TN").contains(op)) {
            throw new UserError("--gemm-op must be NT, NN or TN, got '" + gemmOp + "'");
        }
        double gflops = TrainingBenchmark.gemmGflops(op.charAt(0) == 'T', op.charAt(1) == 'T', m, n, k, seconds, warmup);
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("impl", "seqspark");
        json.put("gemm", gemm);
        json.put("op", op);
        json.put("blas", Blas.shortName());
        json.put("gflops", round(gflops, 2));
        System.out.println(json);
        return 0;
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
