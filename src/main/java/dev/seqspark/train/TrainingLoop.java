package dev.seqspark.train;

import java.util.function.IntUnaryOperator;

/**
 * The driver's side of training, the same whoever runs the shards: for every epoch, rounds of "every
 * shard trains from the same weights → the outer update ({@link OuterUpdate}: averaging, block momentum or Nesterov)
 * → next round" (one round per epoch, or one per {@code syncEvery} batches; with overlap, the next round starts
 * before the last is combined, and each update lands a round late), then the shards' optimizer states
 * averaged, validation, and the listener (progress, metrics, checkpoint). Within an epoch each shard keeps its own
 * optimizer state and hidden state ({@link ShardState}); hidden states start from zeros every epoch, as d2l's
 * train_epoch_ch8 starts each epoch with a fresh state.
 */
public final class TrainingLoop {

    /**
     * One epoch's figures (what metrics.jsonl records): the mean training loss per example (predicted token or
     * record), the validation, the examples and tokens trained, the wall seconds of the whole epoch (rounds and
     * validation); the rounds' overhead is their wall time minus the time their training needed on the available
     * task slots, i.e. what broadcasting, scheduling and summing cost; {@code slowestSeconds} is Σ over the rounds of
     * the slowest shard's training time: the epoch's wall time on W one-core executors, rounds aside.
     */
    public record EpochMetrics(int epoch, double trainLoss, Validation valid, long examples, long tokens, double seconds,
                               int rounds, double roundOverheadSeconds, double slowestSeconds) {
        public double examplesPerSecond() {
            return examples / seconds;
        }
    }

    /** Told about progress; {@link #epochEnd} is where checkpoints are written. */
    public interface Listener {
        default void roundEnd(int epoch, int round, int rounds, long examplesSoFar, double secondsSoFar, double lossSoFar) {}

        default void epochEnd(EpochMetrics metrics, ModelState state) {}
    }

    /** Raised when a round's loss is not finite; the state of the last good epoch is what the listener last saw. */
    public static final class DivergedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public DivergedException(int epoch) {
            super("the training loss became NaN or infinite in epoch " + (epoch + 1)
                    + "; lower train.lr or set train.clip (the last good checkpoint is kept)");
        }
    }

    private final Workers workers;
    private final IntUnaryOperator syncEvery;
    private final OuterUpdate outer;
    private final boolean overlap;
    private final Listener listener;

    /** Plain averaging; {@code syncEvery} ≤ 0: once per epoch. */
    public TrainingLoop(Workers workers, int syncEvery, Listener listener) {
        this(workers, syncEvery, OuterUpdate.average(), listener);
    }

    /** {@code syncEvery} ≤ 0: one round per epoch; {@code outer}: how a round's results become the next state. */
    public TrainingLoop(Workers workers, int syncEvery, OuterUpdate outer, Listener listener) {
        this(workers, epoch -> syncEvery, outer, false, listener);
    }

    /**
     * As above, the batches per round of every epoch given by {@code syncEvery} (≤ 0: one round); with
     * {@code overlap}, every round but an epoch's first starts before the round before it has been combined (late,
     * {@link Workers#start}): the workers train on while the driver combines, and each outer update lands one round
     * later than it would in turn.
     */
    public TrainingLoop(Workers workers, IntUnaryOperator syncEvery, OuterUpdate outer, boolean overlap,
                        Listener listener) {
        this.workers = workers;
        this.syncEvery = syncEvery;
        this.outer = outer;
        this.overlap = overlap;
        this.listener = listener == null ? new Listener() {} : listener;
    }

    /** Trains epochs [firstEpoch, epochs) from {@code start}; returns the final state. */
    public ModelState run(ModelState start, int firstEpoch, int epochs) {
        ModelState state = start;
        for (int epoch = firstEpoch; epoch < epochs; epoch++) {
            long t0 = System.nanoTime();
            int most = 0;
            for (int b : workers.batchesPerShard(epoch)) {
                most = Math.max(most, b);
            }
            int k = syncEvery.applyAsInt(epoch);
            int chunk = k > 0 ? k : Math.max(1, most);
            int rounds = Math.max(1, (most + chunk - 1) / chunk);
            double lossSum = 0;
            long examples = 0;
            long tokens = 0;
            double overhead = 0;
            double slowest = 0;
            workers.beginEpoch(epoch, state);
            float[][] base = new float[rounds][];
            Workers.Pending[] pending = new Workers.Pending[rounds];
            int started = 0;
            long last = System.nanoTime();
            try {
                for (int r = 0; r < rounds; r++) {
                    // on time: round r starts from the state round r − 1 made; overlapped: round r + 2 starts, while
                    // round r + 1 trains, from the state round r made, each shard adding its own move of round r + 1
                    while (started < rounds && started <= r + (overlap ? 1 : 0)) {
                        base[started] = outer.start(state).weights();
                        pending[started] = workers.start(base[started], overlap && started > 0, overlap,
                                started * chunk, k > 0 ? chunk : 0);
                        started++;
                    }
                    RoundSum sum = pending[r].await();
                    pending[r] = null;
                    ModelState next = outer.update(state, sum, base[r], overlap && r > 0);
                    base[r] = null;
                    long now = System.nanoTime();
                    overhead += Math.max(0, (now - last) / 1e9 - sum.computeSeconds(workers.slots()));
                    last = now;
                    slowest += sum.slowestSeconds();
                    if (!sum.finite()) {
                        throw new DivergedException(epoch);
                    }
                    state = next;
                    lossSum += sum.lossSum();
                    examples += sum.examples();
                    tokens += sum.tokens();
                    listener.roundEnd(epoch, r, rounds, examples, (System.nanoTime() - t0) / 1e9,
                            examples == 0 ? Double.NaN : lossSum / examples);
                }
            } finally {
                for (Workers.Pending p : pending) {   // a round still under way when one failed: let it end first
                    if (p != null) {
                        try {
                            p.await();
                        } catch (RuntimeException ignored) {
                            // the first failure is the one to report
                        }
                    }
                }
            }
            state = workers.endEpoch(state);
            Validation valid = workers.validate(state.weights());
            double seconds = (System.nanoTime() - t0) / 1e9;
            listener.epochEnd(new EpochMetrics(epoch + 1, examples == 0 ? Double.NaN : lossSum / examples, valid,
                    examples, tokens, seconds, rounds, overhead, slowest), state);
        }
        return state;
    }
}
