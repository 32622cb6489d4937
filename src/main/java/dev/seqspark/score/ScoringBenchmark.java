package dev.seqspark.score;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.TrainingBenchmark;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Single-thread throughput of the {@link Scorer} alone — what a {@code score} task computes, without Spark's
 * reading and writing: {@code batch} records of {@code recordTokens} random token ids scored together, in
 * chunks of {@link Scorer#CHUNK_STEPS} steps with the state carried, log-likelihoods only. Comparing it with the {@code score} job's
 * figure shows what the job's I/O costs.
 */
public final class ScoringBenchmark {
    private ScoringBenchmark() {}

    public static TrainingBenchmark.Result run(ModelSpec spec, int batch, int recordTokens, double seconds,
                                               double warmupSeconds, long seed, Consumer<String> progress) {
        List<String> tokens = new ArrayList<>();
        tokens.add(Vocab.UNK);
        for (int i = 1; i < spec.vocabSize(); i++) {
            tokens.add("t" + i);
        }
        Model model = new Model(new ModelConfig(spec, new TokenizerConfig(TokenizerConfig.Level.WORD, false, false)),
                new Vocab(tokens), spec.initParams(seed).values);
        Scorer scorer = new Scorer(model, batch, Scorer.CHUNK_STEPS, 0);
        SplittableRandom rng = new SplittableRandom(seed);
        List<int[]> records = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            int[] r = new int[recordTokens];
            for (int t = 0; t < r.length; t++) {
                r[t] = rng.nextInt(spec.vocabSize());
            }
            records.add(r);
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        double sink = 0;
        while (System.nanoTime() < warmEnd) {
            sink += scorer.score(records).get(0).logLikelihood();
        }
        long t0 = System.nanoTime();
        long c0 = mx.getCurrentThreadCpuTime();
        long end = t0 + (long) (seconds * 1e9);
        long nextReport = t0 + 2_000_000_000L;
        long done = 0;
        long now;
        do {
            sink = 0;
            for (Scorer.Score s : scorer.score(records)) {
                done += s.tokens();
                sink += s.logLikelihood();
            }
            now = System.nanoTime();
            if (now >= nextReport && progress != null) {
                double s = (now - t0) / 1e9;
                progress.accept(String.format("%6.1f s  %,10.0f tokens/s", s, done / s));
                nextReport += 2_000_000_000L;
            }
        } while (now < end);
        double wall = (now - t0) / 1e9;
        double cpu = (mx.getCurrentThreadCpuTime() - c0) / 1e9;
        // the last pass's mean negative log-likelihood per token (about ln V for random weights and tokens)
        return new TrainingBenchmark.Result(done, wall, cpu, done / wall, done / cpu,
                -sink / ((long) batch * (recordTokens - 1)));
    }
}
