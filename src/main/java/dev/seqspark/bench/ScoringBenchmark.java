package dev.seqspark.bench;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.score.Scorer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
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

    public static TrainingBenchmark.Result run(LanguageModelSpec spec, int batch, int recordTokens, double seconds,
                                               double warmupSeconds, long seed, Consumer<String> progress) {
        List<String> tokens = new ArrayList<>();
        tokens.add(Vocab.UNK);
        for (int i = 1; i < spec.vocabSize(); i++) {
            tokens.add("t" + i);
        }
        Model<LanguageModelSpec> model = new Model<>(new ModelConfig<>(spec, new TokenizerConfig(TokenizerConfig.Level.WORD, false, false)),
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
        double[] logLikelihood = {0};   // of the last pass, used so the work cannot be dropped
        TimedLoop.Timing t = TimedLoop.run(seconds, warmupSeconds, () -> {
            long predicted = 0;
            double sum = 0;
            for (Scorer.Score s : scorer.score(records)) {
                predicted += s.tokens();
                sum += s.logLikelihood();
            }
            logLikelihood[0] = sum;
            return predicted;
        }, progress == null ? null : (sec, done) -> progress.accept(
                String.format("%6.1f s  %,10.0f tokens/s", sec, done / sec)));
        // the last pass's mean negative log-likelihood per token (about ln V for random weights and tokens)
        return TrainingBenchmark.Result.of(t, -logLikelihood[0] / ((long) batch * (recordTokens - 1)));
    }
}
