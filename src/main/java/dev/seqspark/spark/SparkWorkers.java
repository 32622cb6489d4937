package dev.seqspark.spark;

import dev.seqspark.train.ModelState;
import dev.seqspark.train.OptimizerSum;
import dev.seqspark.train.RoundSum;
import dev.seqspark.train.Shard;
import dev.seqspark.train.ShardState;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.Task;
import dev.seqspark.train.Validation;
import dev.seqspark.train.Workers;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import scala.reflect.ClassTag$;
import scala.runtime.BoxedUnit;

/**
 * {@link Workers} on Spark, for either task. What a round costs and carries is kept small:
 * <ul>
 *   <li>each shard's {@link ShardState} (its optimizer's moments, its hidden state) stays on the executors, as one
 *       element of an RDD per round: round r's states are a function of round r − 1's, the shard's cached data and
 *       the round's broadcast, so Spark's lineage recomputes a lost partition bit for bit (every broadcast of the
 *       epoch is kept until its end, when the states are summed and dropped);</li>
 *   <li>a round broadcasts only the weights to start from, and each task returns only its weights and figures;</li>
 *   <li>no shuffle: the results are summed on the driver as they arrive, in shard order whatever order the tasks
 *       finish in (out-of-order ones wait), so a run gives the same bits under retries.</li>
 * </ul>
 * The optimizer states travel once per epoch, to start it and to be averaged at its end. A trainer is kept per
 * shard on its executor for the run ({@link ExecutorTrainers}). No maths here.
 */
public final class SparkWorkers<S extends Shard> implements Workers {

    /** What a round's tasks read: the epoch, the weights to start from, which batches. */
    record RoundStart(int epoch, float[] start, int fromBatch, int maxBatches) implements Serializable {}

    /** A shard after a round: what it keeps, and what it reports (null before the epoch's first round). */
    record Round(ShardState kept, ShardTrainer.Result result, double seconds) implements Serializable {}

    private final JavaSparkContext jsc;
    private final Corpus<S> corpus;
    private final Task<S> task;
    private final boolean failFirstAttempts;
    private final String runId = java.util.UUID.randomUUID().toString();   // keys the executors' trainer pools
    private final List<Broadcast<?>> epochBroadcasts = new ArrayList<>();
    private final RoundCosts costs;
    private JavaRDD<Round> states;
    private int epoch;

    public SparkWorkers(JavaSparkContext jsc, Corpus<S> corpus, Task<S> task) {
        this(jsc, corpus, task, false);
    }

    /** For the retry test: every training task's first attempt fails after its work, so Spark must retry it. */
    SparkWorkers(JavaSparkContext jsc, Corpus<S> corpus, Task<S> task, boolean failFirstAttempts) {
        this.jsc = jsc;
        this.corpus = corpus;
        this.task = task;
        this.failFirstAttempts = failFirstAttempts;
        this.costs = new RoundCosts(jsc.sc());
    }

    @Override
    public int count() {
        return corpus.workers();
    }

    @Override
    public int slots() {
        return Math.min(corpus.workers(), jsc.defaultParallelism());
    }

    @Override
    public int[] batchesPerShard(int epoch) {
        int[] out = new int[corpus.workers()];
        for (int k = 0; k < out.length; k++) {
            out[k] = task.batches(corpus.shardSize(k), epoch, k);
        }
        return out;
    }

    @Override
    public void beginEpoch(int epoch, ModelState global) {
        this.epoch = epoch;
        Broadcast<ModelState> start = keep(new ModelState(new float[0], global.optimizerState(), global.optimizerSteps()));
        states = corpus.shards().map(shard -> new Round(ShardState.start(shard.index(), start.value().optimizerState(),
                start.value().optimizerSteps()), null, 0));
    }

    @Override
    public RoundSum round(float[] start, int fromBatch, int maxBatches) {
        jsc.setJobDescription(String.format("seqspark train: epoch %d, batches %d..%s on %d workers", epoch + 1,
                fromBatch, maxBatches > 0 ? String.valueOf(fromBatch + maxBatches - 1) : "end", corpus.workers()));
        long t0 = System.nanoTime();
        Broadcast<RoundStart> in = keep(new RoundStart(epoch, start, fromBatch, maxBatches));
        long t1 = System.nanoTime();
        Task<S> t = task;
        String run = runId;
        boolean fail = failFirstAttempts;
        JavaRDD<Round> next = corpus.shards().zipPartitions(states, (shards, before) -> {
            S shard = shards.next();
            ShardState kept = before.next().kept();
            RoundStart r = in.value();
            ShardTrainer<S> trainer = ExecutorTrainers.take(run, shard.index(), () -> new ShardTrainer<>(t));
            long started = System.nanoTime();   // building a trainer counts as the round's overhead
            ShardTrainer.Result res = trainer.train(kept.from(r.start()), kept.carried(), shard, r.epoch(),
                    r.fromBatch(), r.maxBatches(), null);
            ExecutorTrainers.give(run, shard.index(), trainer);
            if (fail && TaskContext.get().attemptNumber() == 0) {
                throw new IllegalStateException("injected failure of shard " + shard.index() + ", attempt 0");
            }
            return List.of(new Round(kept.after(res), res, (System.nanoTime() - started) / 1e9)).iterator();
        }).persist(StorageLevel.MEMORY_AND_DISK());
        RoundSum sum = new RoundSum();
        jsc.setLocalProperty(RoundCosts.ROUND_PROPERTY, String.valueOf(costs.next()));
        inShardOrder(next.map(r -> new Round(null, weightsAndFigures(r.result()), r.seconds())),
                r -> sum.add(r.result(), r.seconds()));
        jsc.setLocalProperty(RoundCosts.ROUND_PROPERTY, null);
        costs.round((t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6, sum.slowestSeconds() * 1e3);
        states.unpersist(false);
        states = next;
        return sum;
    }

    /** What the driver needs of a result: the weights, not the optimizer state. */
    private static ShardTrainer.Result weightsAndFigures(ShardTrainer.Result r) {
        return new ShardTrainer.Result(new ModelState(r.state().weights(), new float[0], 0), null, r.lossSum(),
                r.examples(), r.tokens(), r.batches(), r.nextBatch(), r.finite());
    }

    @Override
    public ModelState endEpoch(ModelState global) {
        jsc.setJobDescription("seqspark train: epoch " + (epoch + 1) + ": the workers' optimizer states");
        OptimizerSum sum = new OptimizerSum();
        inShardOrder(states.map(Round::kept), sum::add);
        states.unpersist(false);
        states = null;
        epochBroadcasts.forEach(Broadcast::destroy);
        epochBroadcasts.clear();
        return sum.average(global);
    }

    /** A broadcast the epoch's lineage may need again: destroyed at the epoch's end. */
    private <T> Broadcast<T> keep(T value) {
        Broadcast<T> b = jsc.broadcast(value);
        epochBroadcasts.add(b);
        return b;
    }

    /**
     * One job over {@code rdd} (one element per partition), {@code sink} taking the elements in partition order as
     * they arrive: an element that comes early waits for those before it.
     */
    private <T> void inShardOrder(JavaRDD<T> rdd, Consumer<T> sink) {
        TreeMap<Integer, T> early = new TreeMap<>();
        int[] next = {0};
        scala.Function1<scala.collection.Iterator<T>, T> first =
                (scala.Function1<scala.collection.Iterator<T>, T> & Serializable) it -> it.next();
        scala.Function2<Object, T, BoxedUnit> handler = (k, value) -> {
            early.put((Integer) k, value);
            while (!early.isEmpty() && early.firstKey() == next[0]) {
                sink.accept(early.pollFirstEntry().getValue());
                next[0]++;
            }
            return BoxedUnit.UNIT;
        };
        jsc.sc().runJob(rdd.rdd(), first, handler, ClassTag$.MODULE$.apply(Object.class));
    }

    @Override
    public Validation validate(float[] weights) {
        Validation[] total = {task.noValidation()};
        if (!corpus.hasValidation()) {
            return total[0];
        }
        jsc.setJobDescription("seqspark train: validation on " + corpus.workers() + " workers");
        Broadcast<float[]> w = jsc.broadcast(weights);
        Task<S> t = task;
        inShardOrder(corpus.shards().map(shard -> t.validate(w.value(), shard)), v -> total[0] = total[0].plus(v));
        w.destroy();
        return total[0];
    }

    /** Where the rounds spent their time (see {@link RoundCosts}). */
    public String describeRounds() {
        return costs.describe();
    }

    @Override
    public void close() {
        costs.close();
        if (states != null) {
            states.unpersist(false);
        }
        epochBroadcasts.forEach(Broadcast::destroy);
        corpus.close();
    }
}
