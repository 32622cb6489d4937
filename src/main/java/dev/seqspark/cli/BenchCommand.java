package dev.seqspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.Blas;
import dev.seqspark.nn.CellType;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.train.TrainingBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code seqspark bench}: training-step throughput of one model on one thread; last line is JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Training-step throughput (forward + backward through time + clipping + SGD) of a",
                "language model (one-hot or embedding input) on random token ids, on one thread. Progress goes",
                "to stderr; the last line on stdout is one JSON object."})
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
    @Option(names = "--seed", defaultValue = "0", description = "weights and token seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--gemm", paramLabel = "MxNxK",
            description = "instead: the sgemm rate (GFLOP/s) of C (M×N) += A (M×K) · Bᵀ (N×K), the head's shape")
    String gemm;

    @Override
    public Integer call() throws Exception {
        if (gemm != null) {
            return gemmRate();
        }
        if (batch <= 0 || steps <= 0) {
            throw new UserError("--batch and --steps must be positive");
        }
        if (!(seconds > 0) || !(warmup >= 0)) {
            throw new UserError("--seconds must be positive and --warmup non-negative");
        }
        ModelSpec spec = new ModelSpec(CellType.fromId(cell), vocab, embedding, hidden, layers, true, 0.0);
        System.err.printf("bench: %s, %d layer(s), hidden %d, %s, batch %d, steps %d, vocab %d; BLAS %s%n",
                spec.cell().id, layers, hidden, embedding > 0 ? "embedding " + embedding : "one-hot", batch, steps, vocab,
                Blas.describe());
        TrainingBenchmark.Result r = TrainingBenchmark.run(spec, batch, steps, seconds, warmup, seed,
                line -> System.err.println("bench: " + line));
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("impl", "seqspark");
        json.put("cell", spec.cell().id);
        json.put("layers", layers);
        json.put("hidden", hidden);
        json.put("batch", batch);
        json.put("steps", steps);
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

    private int gemmRate() {
        String[] d = gemm.toLowerCase(java.util.Locale.ROOT).split("x");
        if (d.length != 3) {
            throw new UserError("--gemm expects MxNxK, e.g. 1120x30000x512");
        }
        int m = Integer.parseInt(d[0]);
        int n = Integer.parseInt(d[1]);
        int k = Integer.parseInt(d[2]);
        double gflops = TrainingBenchmark.gemmGflops(m, n, k, seconds, warmup);
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("impl", "seqspark");
        json.put("gemm", gemm);
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
