package dev.seqspark.train;

import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.Params;
import dev.seqspark.text.BatchLayout;
import dev.seqspark.text.Partitioning;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A language model's {@link Task} (d2l's train_epoch_ch8): a shard is a contiguous stretch of the token stream, cut
 * into batch × num_steps minibatches by the sequential or random layout of its epoch (random choices derive from
 * (seed, epoch, shard)); the hidden state is carried (values only) from batch to batch and round to round in
 * sequential partitioning, and starts at zero for every batch in random partitioning. Validation is the
 * perplexity of the shard's rows of the validation layout.
 *
 * @param validDims the validation layout every shard takes its rows of
 */
public record LanguageModelTask(LanguageModelSpec spec, TrainConfig cfg, Evaluator.Dims validDims)
        implements Task<TokenShard> {

    /** The task of a run whose validation stream has {@code validTokens} tokens, evaluated in batches of the recipe's shape. */
    public static LanguageModelTask of(LanguageModelSpec spec, TrainConfig cfg, long validTokens) {
        return new LanguageModelTask(spec, cfg, Evaluator.Dims.of(validTokens, cfg.batchSize(), cfg.numSteps()));
    }

    @Override
    public Optimization optimization() {
        return cfg;
    }

    @Override
    public int batches(long shardSize, int epoch, int shard) {
        int offset = BatchLayout.drawOffset(cfg.partitioning(), cfg.numSteps(), cfg.offset(), layoutRandom(epoch, shard));
        return BatchLayout.count(cfg.partitioning(), shardSize, cfg.batchSize(), cfg.numSteps(), offset);
    }

    private SplittableRandom layoutRandom(int epoch, int shard) {
        return new SplittableRandom(Seeds.derive(cfg.seed(), 1, epoch, shard));
    }

    @Override
    public Steps<TokenShard> steps(Params params) {
        return new Batches(params);
    }

    @Override
    public Validation validate(float[] weights, List<TokenShard> shards) {
        int rows = shards.stream().mapToInt(TokenShard::validRows).sum();
        int[][] source = new int[rows][];
        int[] start = new int[rows];
        int r = 0;
        for (TokenShard shard : shards) {
            for (int i = 0; i < shard.validRows(); i++, r++) {
                source[r] = shard.valid();
                start[r] = i * validDims.rowLength();
            }
        }
        return Evaluator.evaluateRows(spec, weights, source, start, validDims.steps(), validDims.rowLength());
    }

    @Override
    public Validation noValidation() {
        return new Evaluator.Loss(0, 0);
    }

    /** One shard's minibatches of an epoch and the state carried through them. */
    private final class Batches implements Steps<TokenShard> {
        private final LanguageModel lm;
        private final int[] x = new int[cfg.batchSize() * cfg.numSteps()];
        private final int[] y = new int[cfg.batchSize() * cfg.numSteps()];
        private BatchLayout layout;
        private LanguageModel.State state;

        Batches(Params params) {
            this.lm = new LanguageModel(spec, params);
        }

        @Override
        public int begin(TokenShard shard, int epoch, Serializable carried) {
            layout = BatchLayout.of(cfg.partitioning(), shard.train(), 0, shard.train().length, cfg.batchSize(),
                    cfg.numSteps(), cfg.offset(), layoutRandom(epoch, shard.index()));
            state = new LanguageModel.State(spec, cfg.batchSize());
            if (carried != null && cfg.partitioning() == Partitioning.SEQUENTIAL) {
                ((LanguageModel.State) carried).copyTo(state);
            }
            return layout.numBatches();
        }

        @Override
        public double step(int i, SplittableRandom dropout) {
            layout.fill(i, x, y);
            if (cfg.partitioning() == Partitioning.RANDOM) {
                state.reset();
            }
            return lm.forwardBackward(x, y, cfg.numSteps(), cfg.batchSize(), null, state, dropout);
        }

        @Override
        public int examples() {
            return x.length;
        }

        @Override
        public long tokens() {
            return x.length;
        }

        @Override
        public Serializable carried() {
            return state.copy();
        }
    }

    @Override
    public String describe() {
        return String.format("%s, %d layer(s), hidden %d, %s input", spec.cell().id, spec.numLayers(), spec.hiddenSize(),
                spec.embeddingDim() > 0 ? "embedding " + spec.embeddingDim() : "one-hot");
    }

    @Override
    public String recipe() {
        return String.format("batch %d x %d steps, %s, lr %s, clip %s", cfg.batchSize(), cfg.numSteps(), cfg.optimizer(),
                cfg.lr(), cfg.clip());
    }

    @Override
    public String examplesName() {
        return "tokens";
    }

    @Override
    public String trainLoss(double meanLoss) {
        return String.format("train ppl %.3f", Math.exp(meanLoss));
    }

    @Override
    public String validation(Validation v) {
        return "valid ppl " + (v.count() == 0 ? "-" : String.format("%.3f", Math.exp(v.meanLoss())));
    }

    @Override
    public Map<String, Object> metrics(TrainingLoop.EpochMetrics m) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("epoch", m.epoch());
        line.put("train_perplexity", Math.exp(m.trainLoss()));
        line.put("valid_perplexity", m.valid().count() == 0 ? null : Math.exp(m.valid().meanLoss()));
        line.put("tokens_per_second", Math.round(m.examples() / m.seconds()));
        line.put("seconds", Math.round(m.seconds() * 1000) / 1000.0);
        line.put("tokens", m.examples());
        return line;
    }
}
