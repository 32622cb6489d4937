package dev.seqspark.bench;

import dev.seqspark.io.Model;
import dev.seqspark.io.ModelConfig;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.score.ClassifierPredictor;
import dev.seqspark.score.Scorer;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.ClassifierTask;
import dev.seqspark.train.ClassifierTrainConfig;
import dev.seqspark.train.LabeledRecords;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.RecordShard;
import dev.seqspark.train.ShardTrainer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Consumer;

/**
 * Single-thread throughput of a classifier on real records: training (the shard trainer's step: packed forward,
 * cross-entropy, backward, clipping, the optimizer, over length-bucketed batches) and prediction (the predictor's
 * batched forward). The records and labels are given; the vocabulary is built from them as the trainer builds
 * it (d2l's order, min_freq, max_vocab), so the PyTorch side (tools/bench_classify.py) can rebuild the same batches.
 */
public final class ClassifierBenchmark {

    public record Result(long records, long tokens, double seconds, double cpuSeconds, double lastLoss) {
        public double tokensPerSecond() {
            return tokens / seconds;
        }

        public double recordsPerSecond() {
            return records / seconds;
        }
    }

    /** Encoded records, their vocabulary and labels (indexed by frequency, ties by name, as StringIndexer). */
    public record Data(LabeledRecords records, Vocab vocab, List<String> labels) {}

    private ClassifierBenchmark() {}

    /** {@code label<TAB>text} lines encoded by {@code tokenizer}, cut to {@code maxLength} (0: no limit), empty ones dropped. */
    public static Data encode(List<String> lines, Tokenizer tokenizer, int minFreq, int maxVocab, int maxLength) {
        List<String> texts = new ArrayList<>();
        List<String> labelOf = new ArrayList<>();
        LinkedHashMap<String, Long> labelCounts = new LinkedHashMap<>();
        List<String> all = new ArrayList<>();
        List<List<String>> toks = new ArrayList<>();
        for (String l : lines) {
            int tab = l.indexOf('\t');
            if (tab < 0) {
                continue;
            }
            List<String> t = tokenizer.textTokens(l.substring(tab + 1));
            if (maxLength > 0 && t.size() > maxLength) {
                t = t.subList(0, maxLength);
            }
            if (t.isEmpty()) {
                continue;
            }
            labelOf.add(l.substring(0, tab));
            labelCounts.merge(l.substring(0, tab), 1L, Long::sum);
            toks.add(t);
            all.addAll(t);
            texts.add(l);
        }
        Vocab v = Vocab.build(Vocab.count(all), minFreq, maxVocab, List.of());
        List<String> labels = new ArrayList<>(labelCounts.keySet());
        labels.sort((a, b) -> labelCounts.get(a).equals(labelCounts.get(b)) ? a.compareTo(b)
                : Long.compare(labelCounts.get(b), labelCounts.get(a)));
        int[][] ids = new int[toks.size()][];
        int[] y = new int[toks.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = v.encode(toks.get(i));
            y[i] = labels.indexOf(labelOf.get(i));
        }
        return new Data(new LabeledRecords(ids, y), v, labels);
    }

    /** Trains epoch after epoch of {@code data} (bucketed batches) for {@code seconds} after {@code warmup}. */
    public static Result train(ClassifierSpec spec, ClassifierTrainConfig cfg, LabeledRecords data, double seconds,
                               double warmup, Consumer<String> progress) {
        ClassifierTask task = new ClassifierTask(spec, cfg);
        ShardTrainer<RecordShard> trainer = new ShardTrainer<>(task);
        RecordShard shard = new RecordShard(0, data, LabeledRecords.empty(), 0, 0);
        int batchesPerEpoch = task.batches(data.size(), 0, 0);
        // K batches per call, as a round of sync_every = K runs them (the state copies once per call).
        int k = 16;
        var run = new Object() {
            ModelState state = ShardTrainer.initialState(task);
            int epoch;
            int b;
            long records;
            double loss;

            long batches() {
                ShardTrainer.Result r = trainer.train(state, null, shard, epoch, b, k, null);
                state = r.state();
                loss = r.lossSum() / Math.max(1, r.examples());
                records += r.examples();
                b += r.batches();
                if (b == batchesPerEpoch) {
                    epoch++;
                    b = 0;
                }
                return r.tokens();
            }
        };
        TimedLoop.run(0, warmup, run::batches, null);   // the warm-up, and one batch call more: not counted below
        long warmRecords = run.records;
        TimedLoop.Timing t = TimedLoop.run(seconds, 0, run::batches, progress == null ? null : (sec, tokens) ->
                progress.accept(String.format("%6.1f s  %,10.0f tokens/s  %,8.0f records/s  loss %.4f", sec,
                        tokens / sec, (run.records - warmRecords) / sec, run.loss)));
        return new Result(run.records - warmRecords, t.units(), t.seconds(), t.cpuSeconds(), run.loss);
    }

    /** Predicts all of {@code data} again and again for {@code seconds} after {@code warmup}, {@code batch} records at a time. */
    public static Result predict(ClassifierSpec spec, LabeledRecords data, Vocab vocab, List<String> labels,
                                 Tokenizer tokenizer, int batch, double seconds, double warmup) {
        Model<ClassifierSpec> m = new Model<>(new ModelConfig<>(spec, tokenizer.config(), 0), vocab, labels,
                spec.initParams(1).values);
        ClassifierPredictor p = new ClassifierPredictor(m, batch, Scorer.CHUNK_STEPS);
        List<int[]> recs = List.of(data.tokens());
        long tokensPerPass = data.tokenCount();
        TimedLoop.Timing t = TimedLoop.run(seconds, warmup, () -> {
            p.predict(recs);
            return tokensPerPass;
        }, null);
        long passes = t.units() / Math.max(1, tokensPerPass);
        return new Result(passes * recs.size(), t.units(), t.seconds(), t.cpuSeconds(), 0);
    }
}
