package dev.seqspark.train;

import dev.seqspark.model.NetworkSpec;
import dev.seqspark.nn.Params;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What differs between a language model ({@link LanguageModelTask}) and a sequence classifier ({@link ClassifierTask})
 * on the workers' side, and nothing else: how a shard of type S is batched, the network and its loss, validation,
 * and how an epoch's figures read. The shard trainer's loop ({@link ShardTrainer}), the rounds ({@link Workers}),
 * the outer update, checkpoints and the run are written once for both. Sent to every executor: immutable.
 *
 * @param <S> the shard's data: {@link TokenShard} or {@link RecordShard}
 */
public interface Task<S extends Shard> extends Serializable {

    /** The architecture. */
    NetworkSpec spec();

    /** Batch size, optimizer, clipping, seed. */
    Optimization optimization();

    /** Batches shard {@code shard} has in {@code epoch}, from its size alone (tokens or records), before any data moves. */
    int batches(long shardSize, int epoch, int shard);

    /** The network over a trainer's parameters with its buffers, one per {@link ShardTrainer}. */
    Steps<S> steps(Params params);

    /**
     * {@code weights} evaluated on the validation data of {@code shards} together, forward only: the shards a task
     * holds share its batches (a small shard's alone would be a row or two, slow to run), and the result is the same
     * as theirs evaluated apart.
     */
    Validation validate(float[] weights, List<S> shards);

    /** A validation of nothing, to merge shards' into. */
    Validation noValidation();

    /**
     * A shard's batches of one epoch, stepped through in order by the shard trainer; a batch's forward and backward
     * write the gradients into the parameters' grads. Not thread-safe.
     */
    interface Steps<S> {
        /**
         * Lays out {@code shard}'s batches of {@code epoch}, continuing from {@code carried} (null: from the start);
         * returns how many there are.
         */
        int begin(S shard, int epoch, Serializable carried);

        /** Forward and backward of batch {@code i}; returns its mean loss. {@code dropout} null: no dropout. */
        double step(int i, SplittableRandom dropout);

        /** Examples (predicted tokens, or records) of the batch last stepped. */
        int examples();

        /** Tokens of the batch last stepped. */
        long tokens();

        /** What the shard carries into its next round (a language model's hidden state); null: nothing. */
        Serializable carried();
    }

    // ---- how the run reads (progress lines, metrics.jsonl)

    /** The architecture in a few words: "gru, 1 layer(s), hidden 256, one-hot input". */
    String describe();

    /** The recipe in a few words: "batch 32 x 35 steps, sgd, lr 1.0, clip 1.0". */
    String recipe();

    /** What an example is: "tokens" or "records". */
    String examplesName();

    /** The training loss as the task reports it: "train ppl 4.321" or "train loss 0.6931". */
    String trainLoss(double meanLoss);

    /** The validation figures of the progress line: "valid ppl 4.338", or loss, accuracy and macro-F1. */
    String validation(Validation v);

    /** The task's fields of an epoch's metrics.jsonl line, in order (the run adds workers, rounds, overhead). */
    Map<String, Object> metrics(TrainingLoop.EpochMetrics m);
}
