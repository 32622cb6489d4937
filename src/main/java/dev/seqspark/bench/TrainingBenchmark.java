package dev.seqspark.bench;

import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.Blas;
import dev.seqspark.nn.Params;
import dev.seqspark.optim.Sgd;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Single-thread throughput of the training step d2l's train_epoch_ch8 runs: forward, mean cross-entropy,
 * backward through time, clipping by global norm, SGD, with the hidden state carried (and detached)
 * from batch to batch. Input is random token ids; speed does not depend on which tokens they are.
 */
public final class TrainingBenchmark {

    /** Tokens per wall second and per CPU second of this thread (with one BLAS thread they are the same work). */
    public record Result(long tokens, double seconds, double cpuSeconds, double tokensPerSecond,
                         double tokensPerCpuSecond, double lastLoss) {
        public static Result of(TimedLoop.Timing t, double lastLoss) {
            return new Result(t.units(), t.seconds(), t.cpuSeconds(), t.units() / t.seconds(), t.units() / t.cpuSeconds(),
                    lastLoss);
        }
    }

    private TrainingBenchmark() {}

    /**
     * Runs {@code warmupSeconds} untimed (JIT compilation), then as many steps as fit in {@code seconds},
     * reporting progress about every two seconds.
     */
    public static Result run(LanguageModelSpec spec, int batch, int steps, double seconds, double warmupSeconds,
                             long seed, Consumer<String> progress) {
        Params params = spec.initParams(seed);
        LanguageModel lm = new LanguageModel(spec, params);
        Sgd sgd = new Sgd(params.values.length, 1.0, 0, 0);
        LanguageModel.State state = new LanguageModel.State(spec, batch);
        SplittableRandom rng = new SplittableRandom(seed);
        int rows = steps * batch;
        int[][] xs = new int[16][rows];
        int[][] ys = new int[16][rows];
        for (int i = 0; i < xs.length; i++) {
            for (int r = 0; r < rows; r++) {
                xs[i][r] = rng.nextInt(spec.vocabSize());
                ys[i][r] = rng.nextInt(spec.vocabSize());
            }
        }
        int[] i = {0};
        double[] loss = {0};
        TimedLoop.Timing t = TimedLoop.run(seconds, warmupSeconds, () -> {
            int k = i[0]++ % xs.length;
            loss[0] = step(lm, sgd, xs[k], ys[k], steps, batch, state);
            return rows;
        }, progress == null ? null : (sec, tokens) -> progress.accept(
                String.format("%6.1f s  %,10.0f tokens/s  loss %.3f", sec, tokens / sec, loss[0])));
        return Result.of(t, loss[0]);
    }

    /**
     * GFLOP/s of C (m×n) = op(A)·op(B) on this thread, every matrix dense and row-major: op(A) = A (m×k) or, with
     * {@code transA}, Aᵀ for A stored k×m; op(B) = B (k×n) or, with {@code transB}, Bᵀ for B stored n×k.
     */
    public static double gemmGflops(boolean transA, boolean transB, int m, int n, int k, double seconds,
                                    double warmupSeconds) {
        float[] a = new float[m * k];
        float[] b = new float[n * k];
        float[] c = new float[m * n];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rng.nextDouble();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rng.nextDouble();
        }
        TimedLoop.Timing t = TimedLoop.run(seconds, warmupSeconds, () -> {
            Blas.gemm(transA, transB, m, n, k, 1f, a, 0, transA ? m : k, b, 0, transB ? k : n, 0f, c, 0, n);
            return 1;
        }, null);
        return 2.0 * m * n * k * t.units() / t.seconds() / 1e9;
    }

    private static double step(LanguageModel lm, Sgd sgd, int[] x, int[] y, int steps, int batch,
                               LanguageModel.State state) {
        double loss = lm.forwardBackward(x, y, steps, batch, null, state, null);
        sgd.clipAndStep(lm.params().values, lm.params().grads, 1.0);
        return loss;
    }
}
