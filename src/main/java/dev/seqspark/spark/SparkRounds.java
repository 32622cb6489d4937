package dev.seqspark.spark;

import dev.seqspark.train.HiddenState;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.RoundSum;
import dev.seqspark.train.ShardTrainer;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * One training round on Spark, the same for every task: the round's input (the state, each shard's carried
 * hidden state, which batches) is broadcast once, every cached shard trains in its own task with a trainer
 * pooled on its executor ({@link ExecutorTrainers}), and the results are summed in a fixed tree
 * ({@link TreeSum}). What a task does on its shard is a {@link Task}: the language model's
 * ({@link SparkWorkers}) and the classifier's ({@link ClassifierWorkers}). No maths here.
 */
final class SparkRounds {

    /** What every task of a round reads. */
    record RoundInput(ModelState state, Map<Integer, HiddenState> carried, int epoch, int fromBatch, int maxBatches)
            implements Serializable {}

    /** What a round's task does for one task (language model, classifier) on a shard of type S with a trainer T. */
    interface Task<S, T> extends Serializable {
        /** The shard's index k in [0, W). */
        int index(S shard);

        /** A new trainer (on the executor; then pooled for the run). */
        T newTrainer();

        /** Trains {@code shard}'s batches of the round with {@code trainer}. */
        ShardTrainer.Result train(T trainer, S shard, RoundInput round);
    }

    private SparkRounds() {}

    /**
     * Runs one round over {@code shards} (W = {@code workers} cached elements) and returns the sum of the results.
     * With {@code failFirstAttempts} (the retry test) every task's first attempt fails after its work.
     */
    static <S, T> RoundSum train(JavaSparkContext jsc, JavaRDD<S> shards, int workers, String runId, Task<S, T> task,
                                 boolean failFirstAttempts, ModelState state, Map<Integer, HiddenState> carried,
                                 int epoch, int fromBatch, int maxBatches) {
        Broadcast<RoundInput> in = jsc.broadcast(new RoundInput(state, new HashMap<>(carried), epoch, fromBatch, maxBatches));
        boolean fail = failFirstAttempts;
        JavaPairRDD<Integer, TreeSum.Outcome> out = shards.mapToPair(shard -> {
            RoundInput r = in.value();
            int k = task.index(shard);
            T trainer = ExecutorTrainers.take(runId, k, task::newTrainer);
            long t0 = System.nanoTime();   // building a trainer counts as the round's overhead
            ShardTrainer.Result res = task.train(trainer, shard, r);
            ExecutorTrainers.give(runId, k, trainer);
            if (fail && org.apache.spark.TaskContext.get().attemptNumber() == 0) {
                throw new IllegalStateException("injected failure of shard " + k + ", attempt 0");
            }
            return new Tuple2<>(k, new TreeSum.Outcome(res, (System.nanoTime() - t0) / 1e9));
        });
        RoundSum sum = TreeSum.sum(out, workers);
        in.destroy();
        return sum;
    }
}
