package dev.seqspark.spark;

import dev.seqspark.train.ModelState;
import dev.seqspark.train.OptimizerSum;
import dev.seqspark.train.RoundSum;
import dev.seqspark.train.Shard;
import dev.seqspark.train.ShardState;
import dev.seqspark.train.ShardSum;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.Task;
import dev.seqspark.train.Validation;
import dev.seqspark.train.Workers;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.spark.Partition;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.PartitionCoalescer;
import org.apache.spark.rdd.PartitionGroup;
import org.apache.spark.rdd.RDD;
import scala.Option;
import scala.Tuple2;
import scala.reflect.ClassTag$;
import scala.runtime.BoxedUnit;

/**
 * {@link Workers} on Spark, for either task. What a round costs and carries is kept small:
 * <ul>
 *   <li>with the channel ({@link Rounds#STREAM}, dist.rounds=stream), an epoch is one job: its tasks, all running
 *       at once, read each round's start from {@link RoundChannel} and write their results back, keeping their
 *       shards' states ({@link ShardState}: optimizer moments, hidden state) in their own variables; a round is two
 *       messages, with no job to schedule, launch or deserialize. A retried task is sent the epoch's rounds from the
 *       first and replays them;</li>
 *   <li>with a job a round ({@link Rounds#JOBS}), each shard's state stays on its executor ({@link ExecutorStates})
 *       from round to round within an epoch. It is a pure function of the epoch's start and the rounds' broadcasts,
 *       which are kept to the epoch's end: a task that does not find it (its executor was lost, or it ran elsewhere)
 *       replays its shard's rounds of the epoch and gets the same bits;</li>
 *   <li>either way a round sends only the weights to start from, and each task returns only its shards' weights
 *       (summed along the round's tree as far as its shards allow) and figures; no shuffle: the driver adds what
 *       arrives, and the tree gives the same bits whatever order that is, so a run gives the same bits under
 *       retries;</li>
 *   <li>a job's lineage is one step deep over the cached shards, with no more tasks than task slots;</li>
 *   <li>rounds' jobs run from a pool of two driver threads, so that a late round ({@link Workers#start}) can be
 *       submitted while the round before it trains, its tasks queued behind that round's.</li>
 * </ul>
 * Validation is one job too, each task evaluating its shards' data together (at W = 16 on two slots a shard
 * alone holds two rows of the validation layout: batches of two rows would cost three times as long).
 * The optimizer states travel once per epoch, to start it and to be averaged at its end. Trainers are pooled on
 * each executor for the run ({@link ExecutorTrainers}). No maths here.
 */
public final class SparkWorkers<S extends Shard> implements Workers {

    /** What a round's tasks read: the epoch, the base weights, whether it is late and keeps moves, which batches. */
    record RoundStart(int epoch, byte[] weights, boolean late, boolean keepMove, int fromBatch, int maxBatches)
            implements Serializable {
        static RoundStart of(int epoch, float[] base, boolean late, boolean keepMove, int fromBatch, int maxBatches) {
            return new RoundStart(epoch, Outcome.bytes(base), late, keepMove, fromBatch, maxBatches);
        }

        /** The base weights (a fresh copy). */
        float[] base() {
            float[] w = new float[weights.length / Float.BYTES];
            Outcome.floats(weights).get(w);
            return w;
        }
    }

    /** What a task computes of a shard. */
    interface OnShard<S, T> extends Serializable {
        T apply(S shard);
    }

    /** A shard's figures of a round: what its task reports of it beside the weights. */
    record Figures(int shard, double lossSum, long examples, long tokens, int batches, boolean finite, double seconds,
                   int replayed) implements Serializable {}

    /**
     * A node of the round's weight sum ({@link ShardSum}) as it travels, in little-endian bytes (a byte[] serializes as
     * one copy, a float[] float by float, several times slower for the megabytes a round moves): a single shard's
     * float weights and batches (a leaf, or a node whose other shards trained nothing: half the bytes of b·w in
     * double), or several shards' sum in double (batches 0); null bytes when none of its shards trained a batch.
     */
    record Part(int height, int residue, int batches, byte[] bytes) implements Serializable {
        static Part of(ShardSum.Node n) {
            if (n.isWeights()) {
                ByteBuffer b = ByteBuffer.allocate(n.weights().remaining() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(n.weights().duplicate());
                return new Part(n.height(), n.residue(), n.batches(), b.array());
            }
            if (n.sum() == null) {
                return new Part(n.height(), n.residue(), 0, null);
            }
            ByteBuffer b = ByteBuffer.allocate(n.sum().length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(n.sum());
            return new Part(n.height(), n.residue(), 0, b.array());
        }

        ShardSum.Node node() {
            if (bytes != null && batches > 0) {
                return new ShardSum.Node(height, residue, null, Outcome.floats(bytes), batches);
            }
            if (bytes == null) {
                return ShardSum.Node.of(height, residue, null);
            }
            double[] v = new double[bytes.length / Double.BYTES];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(v);
            return ShardSum.Node.of(height, residue, v);
        }
    }

    /**
     * What a task reports of a round: each of its shards' figures, and its shards' weights summed as far as the
     * round's tree allows (one node on a power-of-two number of slots: W = 16 on two sends 2 × 8·P bytes a round
     * rather than 16 × 4·P), and with the channel, the CPU time the task spent on it (reading the round, sending the
     * round before it). Not the optimizer states: those stay.
     */
    record Outcome(List<Figures> figures, List<Part> parts, double channelCpuMs) implements Serializable {
        /** Weights as little-endian bytes. */
        static byte[] bytes(float[] w) {
            ByteBuffer b = ByteBuffer.allocate(w.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(w);
            return b.array();
        }

        /** Little-endian weight bytes read as floats, without a copy. */
        static java.nio.FloatBuffer floats(byte[] bytes) {
            return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        }
    }

    private final JavaSparkContext jsc;
    private final Corpus<S> corpus;
    private final Task<S> task;
    private final boolean failFirstAttempts;
    private final RoundChannel channel;   // null: a job a round (dist.rounds=jobs)
    private java.util.concurrent.Future<OptimizerSum> epochJob;   // with the channel: the epoch's one job
    private final String runId = java.util.UUID.randomUUID().toString();   // keys the executors' pools
    private final RoundCosts costs;
    private Broadcast<ModelState> epochStart;
    private final List<Broadcast<RoundStart>> rounds = new ArrayList<>();
    private int epoch;
    private RDD<S> tasks;   // the cached shards, packed into no more partitions than task slots (guarded by this)
    // runs the rounds' jobs, so that the driver can start a round while the one before it trains (two at most)
    private final java.util.concurrent.ExecutorService roundJobs = java.util.concurrent.Executors.newFixedThreadPool(2,
            r -> {
                Thread t = new Thread(r, "seqspark-round");
                t.setDaemon(true);
                return t;
            });

    /** How rounds reach the tasks (dist.rounds): a Spark job each, or one job an epoch fed by a channel. */
    public enum Rounds { JOBS, STREAM }

    /** Rounds as {@link #auto} chooses, the channel on any free port. */
    SparkWorkers(JavaSparkContext jsc, Corpus<S> corpus, Task<S> task) {
        this(jsc, corpus, task, false, auto(jsc), 0);
    }

    public SparkWorkers(JavaSparkContext jsc, Corpus<S> corpus, Task<S> task, Rounds rounds, int port) {
        this(jsc, corpus, task, false, rounds, port);
    }

    /**
     * For the retry tests: with {@code failFirstAttempts} every training task's first attempt fails after its work
     * (with the channel: after its first round), so Spark must retry it.
     */
    SparkWorkers(JavaSparkContext jsc, Corpus<S> corpus, Task<S> task, boolean failFirstAttempts, Rounds rounds,
                 int port) {
        this.jsc = jsc;
        this.corpus = corpus;
        this.task = task;
        this.failFirstAttempts = failFirstAttempts;
        this.costs = new RoundCosts(jsc.sc());
        if (rounds == Rounds.STREAM && corpus.workers() > 1) {
            String host = jsc.getConf().get("spark.driver.host", "localhost");
            channel = new RoundChannel(host, jsc.getConf().get("spark.driver.bindAddress", host), port);
        } else {
            channel = null;
        }
    }

    /**
     * dist.rounds=auto: the channel, unless Spark's dynamic allocation is on (the channel's tasks hold their
     * executors for an epoch, and all must run at once).
     */
    public static Rounds auto(JavaSparkContext jsc) {
        return jsc.getConf().getBoolean("spark.dynamicAllocation.enabled", false) ? Rounds.JOBS : Rounds.STREAM;
    }

    @Override
    public int count() {
        return corpus.workers();
    }

    @Override
    public int slots() {
        if (channel != null) {
            synchronized (this) {
                return tasks != null ? tasks.getNumPartitions() : runAtOnce();
            }
        }
        return Math.min(corpus.workers(), jsc.defaultParallelism());
    }

    /** With the channel all of an epoch's tasks run at once: no more tasks than Spark can run at once. */
    private int runAtOnce() {
        int free = jsc.sc().maxNumConcurrentTasks(jsc.sc().resourceProfileManager().defaultResourceProfile());
        return Math.max(1, Math.min(corpus.workers(), free));
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
        costs.beginEpoch();
        epochStart = jsc.broadcast(new ModelState(new float[0], global.optimizerState(), global.optimizerSteps()));
        if (channel != null) {
            int n = runAtOnce();   // packed again for the task slots there are now
            synchronized (this) {
                tasks = packed(n);
            }
            channel.openEpoch(epoch, n);
            epochJob = roundJobs.submit(this::streamEpoch);
        }
    }

    /**
     * With the channel, an epoch's one job: each task trains its shards round after round as the channel hands it
     * rounds, keeping their states in its own variables, and returns their optimizer states when it says the epoch
     * has ended. A retried task replays the epoch's rounds from the first.
     */
    private OptimizerSum streamEpoch() {
        jsc.setJobGroup(runId, String.format("seqspark train: epoch %d, its rounds on %d workers", epoch + 1,
                corpus.workers()), true);
        Task<S> t = task;
        String run = runId;
        boolean fail = failFirstAttempts;
        Broadcast<ModelState> begin = epochStart;
        RoundChannel.Address at = channel.address();
        int e = epoch;
        int shards = corpus.workers();
        OptimizerSum sum = new OptimizerSum();
        InOrder<ShardState> inOrder = new InOrder<>(sum::add);
        try {
            perTask(mine -> {
                ShardTrainer<S> trainer = ExecutorTrainers.take(run, () -> new ShardTrainer<>(t));
                List<ShardState> states = new ArrayList<>();
                for (S shard : mine) {
                    states.add(ShardState.start(shard.index(), begin.value().optimizerState(),
                            begin.value().optimizerSteps()));
                }
                // the channel's CPU time (a blocked read takes none): the round before's sending, this one's reading
                java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
                try (RoundChannel.Link link = new RoundChannel.Link(at, e, TaskContext.getPartitionId())) {
                    long c0 = cpu.getCurrentThreadCpuTime();
                    for (RoundStart in = link.next(); in != null; in = link.next()) {
                        float[] from = in.base();
                        long channelCpu = cpu.getCurrentThreadCpuTime() - c0;
                        TaskRound round = new TaskRound(shards);
                        for (int i = 0; i < mine.size(); i++) {
                            states.set(i, round.train(trainer, states.get(i), 0, from, in, mine.get(i)));
                        }
                        c0 = cpu.getCurrentThreadCpuTime();
                        link.send(round.outcome(channelCpu / 1e6));
                        if (fail && TaskContext.get().attemptNumber() == 0) {
                            throw new IllegalStateException("injected failure of task " + TaskContext.getPartitionId()
                                    + ", attempt 0, after its first round");
                        }
                    }
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
                ExecutorTrainers.give(run, trainer);
                List<Tuple2<Integer, ShardState>> out = new ArrayList<>();
                for (int i = 0; i < mine.size(); i++) {
                    out.add(new Tuple2<>(mine.get(i).index(), states.get(i).forAveraging()));
                }
                return out;
            }, (task, values) -> values.forEach(v -> inOrder.accept(v._1(), v._2())));
        } finally {
            jsc.clearJobGroup();
        }
        return sum;
    }

    /** A task's round of its shards: their figures and their weights summed as far as the round's tree allows. */
    private static final class TaskRound {
        private final List<Figures> figures = new ArrayList<>();
        private final ShardSum block;

        TaskRound(int shards) {
            block = new ShardSum(shards);
        }

        /** Trains {@code shard}'s round from {@code before}; returns the state it keeps for its next round. */
        <S extends Shard> ShardState train(ShardTrainer<S> trainer, ShardState before, int replayed, float[] from,
                                           RoundStart in, S shard) {
            long started = System.nanoTime();
            ShardTrainer.Round res = trainer.round(before, from, in.late(), in.keepMove(), shard, in.epoch(),
                    in.fromBatch(), in.maxBatches());
            double seconds = (System.nanoTime() - started) / 1e9;
            ShardTrainer.Result out = res.reported();
            figures.add(new Figures(shard.index(), out.lossSum(), out.examples(), out.tokens(), out.batches(),
                    out.finite(), seconds, replayed));
            block.add(ShardSum.leaf(shard.index(), java.nio.FloatBuffer.wrap(out.state().weights()), out.batches()));
            return res.kept();
        }

        Outcome outcome(double channelCpuMs) {
            List<Part> parts = new ArrayList<>();
            for (ShardSum.Node n : block.nodes()) {
                parts.add(Part.of(n));
            }
            return new Outcome(figures, parts, channelCpuMs);
        }
    }

    @Override
    public Pending start(float[] base, boolean late, boolean keepMove, int fromBatch, int maxBatches) {
        long number = costs.beginRound();
        if (channel != null) {
            int r = channel.publish(RoundStart.of(epoch, base, late, keepMove, fromBatch, maxBatches));
            java.util.concurrent.Future<OptimizerSum> job = epochJob;
            int shards = corpus.workers();
            return () -> {
                try {
                    Outcome[] outcomes = channel.await(r, job, MISSING_TASK_SECONDS);
                    RoundSum sum = new RoundSum(shards);
                    InOrder<Figures> inOrder = new InOrder<>(f -> sum.addFigures(f.batches(), f.lossSum(),
                            f.examples(), f.tokens(), f.finite(), f.seconds()));
                    for (Outcome o : outcomes) {
                        o.parts().forEach(p -> sum.addWeights(p.node()));
                        o.figures().forEach(f -> inOrder.accept(f.shard(), f));
                    }
                    costs.replayed(channel.takeReplayed());
                    double channelCpu = 0;
                    for (Outcome o : outcomes) {
                        channelCpu = Math.max(channelCpu, o.channelCpuMs());
                    }
                    costs.taskResult(number, channelCpu);
                    costs.endRound(0, sum.computeSeconds(slots()) * 1e3);
                    return sum;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a round", e);
                }
            };
        }
        String description = String.format("seqspark train: epoch %d, batches %d..%s on %d workers", epoch + 1,
                fromBatch, maxBatches > 0 ? String.valueOf(fromBatch + maxBatches - 1) : "end", corpus.workers());
        long t0 = System.nanoTime();
        rounds.add(jsc.broadcast(RoundStart.of(epoch, base, late, keepMove, fromBatch, maxBatches)));
        double broadcastMs = (System.nanoTime() - t0) / 1e6;
        Task<S> t = task;
        String run = runId;
        boolean fail = failFirstAttempts;
        Broadcast<ModelState> begin = epochStart;
        List<Broadcast<RoundStart>> history = List.copyOf(rounds);
        int shards = corpus.workers();
        java.util.concurrent.Future<RoundSum> job = roundJobs.submit(() -> {
            RoundSum sum = new RoundSum(shards);
            InOrder<Figures> inOrder = new InOrder<>(f -> {
                sum.addFigures(f.batches(), f.lossSum(), f.examples(), f.tokens(), f.finite(), f.seconds());
                costs.replayed(f.replayed());
            });
            jsc.setJobDescription(description);
            jsc.setLocalProperty(RoundCosts.ROUND_PROPERTY, String.valueOf(number));
            perTask(mine -> {
                TaskRound round = new TaskRound(shards);
                int r = history.size() - 1;
                RoundStart in = history.get(r).value();
                float[] from = in.base();   // decoded once: every shard of the task starts from it, reading it only
                for (S shard : mine) {
                    ShardTrainer<S> trainer = ExecutorTrainers.take(run, () -> new ShardTrainer<>(t));
                    ExecutorStates.begin(run, in.epoch(), r, shard.index());
                    try {
                        Before before = stateBefore(run, r, shard, trainer, begin.value(), history);
                        ShardState kept = round.train(trainer, before.state(), before.replayed(), from, in, shard);
                        ExecutorStates.put(run, in.epoch(), r, shard.index(), kept);
                        ExecutorTrainers.give(run, trainer);
                    } finally {
                        ExecutorStates.end(run, in.epoch(), r, shard.index());
                    }
                }
                if (fail && TaskContext.get().attemptNumber() == 0) {
                    throw new IllegalStateException("injected failure of task " + TaskContext.getPartitionId()
                            + ", attempt 0");
                }
                return round.outcome(0);
            }, (task, o) -> {
                o.parts().forEach(p -> sum.addWeights(p.node()));
                o.figures().forEach(f -> inOrder.accept(f.shard(), f));
            });
            jsc.setLocalProperty(RoundCosts.ROUND_PROPERTY, null);
            costs.endRound(broadcastMs, sum.computeSeconds(slots()) * 1e3);
            return sum;
        });
        return () -> await(job);
    }

    /** A task slot missing this long while the others wait for it fails the run (dist.rounds=stream). */
    private static final double MISSING_TASK_SECONDS = 300;

    /** The job's value, or its failure thrown as it is. */
    static <T> T await(java.util.concurrent.Future<T> job) {
        try {
            return job.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a round", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** A shard's state before a round, and how many of the epoch's rounds were replayed to find it. */
    record Before(ShardState state, int replayed) {}

    /**
     * Shard {@code shard}'s state before round {@code r}: kept on this executor (waiting for it when round r − 1 of
     * the shard is training here right now: a late round's task can start before it), or else replayed from the
     * epoch's start through rounds 0 … r − 1 (what the lost state was, bit for bit).
     */
    private static <S extends Shard> Before stateBefore(String run, int r, S shard, ShardTrainer<S> trainer,
                                                        ModelState begin, List<Broadcast<RoundStart>> history) {
        ShardState kept = ShardState.start(shard.index(), begin.optimizerState(), begin.optimizerSteps());
        if (r == 0) {
            return new Before(kept, 0);
        }
        int epoch = history.get(0).value().epoch();
        ShardState found = ExecutorStates.await(run, epoch, r - 1, shard.index());
        if (found != null) {
            return new Before(found, 0);
        }
        for (int j = 0; j < r; j++) {
            RoundStart in = history.get(j).value();
            kept = trainer.round(kept, in.base(), in.late(), in.keepMove(), shard, epoch, in.fromBatch(),
                    in.maxBatches()).kept();
        }
        return new Before(kept, r);
    }

    @Override
    public ModelState endEpoch(ModelState global) {
        costs.endRounds();
        if (channel != null) {
            channel.endEpoch();
            OptimizerSum sum = await(epochJob);
            epochJob = null;
            epochStart.destroy();
            epochStart = null;
            return sum.average(global);
        }
        jsc.setJobDescription("seqspark train: epoch " + (epoch + 1) + ": the workers' optimizer states");
        Task<S> t = task;
        String run = runId;
        Broadcast<ModelState> begin = epochStart;
        List<Broadcast<RoundStart>> history = List.copyOf(rounds);
        OptimizerSum sum = new OptimizerSum();
        perShard(shard -> {
            ShardTrainer<S> trainer = ExecutorTrainers.take(run, () -> new ShardTrainer<>(t));
            ShardState s = stateBefore(run, history.size(), shard, trainer, begin.value(), history).state();
            ExecutorTrainers.give(run, trainer);
            return s.forAveraging();
        }, sum::add);
        epochStart.destroy();
        epochStart = null;
        rounds.forEach(Broadcast::destroy);
        rounds.clear();
        return sum.average(global);
    }

    /**
     * One job over the cached shards: {@code f} on every shard, {@code sink} taking the values in shard order as they
     * arrive (a value that comes early waits for those before it), so the driver adds them in one order whatever
     * order the tasks finish in. When there are more shards than task slots, a task runs several shards in turn
     * (the shards' partitions coalesced, without a shuffle): fewer tasks, the same values.
     */
    private <T> void perShard(OnShard<S, T> f, Consumer<T> sink) {
        InOrder<T> inOrder = new InOrder<>(sink);
        perTask(shards -> {
            List<Tuple2<Integer, T>> out = new ArrayList<>();
            for (S shard : shards) {
                out.add(new Tuple2<>(shard.index(), f.apply(shard)));
            }
            return out;
        }, (task, values) -> values.forEach(v -> inOrder.accept(v._1(), v._2())));
    }

    /**
     * One job over the cached shards: {@code f} on each task's shards together, {@code sink} taking each task's value
     * (with its task's index) as it arrives.
     */
    private <T> void perTask(OnShards<S, T> f, java.util.function.BiConsumer<Integer, T> sink) {
        RDD<S> tasks;
        synchronized (this) {
            if (this.tasks == null) {
                this.tasks = packed(slots());
            }
            tasks = this.tasks;
        }
        scala.Function2<Object, T, BoxedUnit> handler = (task, value) -> {
            sink.accept((Integer) task, value);
            return BoxedUnit.UNIT;
        };
        List<Object> all = new ArrayList<>();
        for (int i = 0; i < tasks.getNumPartitions(); i++) {
            all.add(i);
        }
        jsc.sc().runJob(tasks, new OnTask<>(f), scala.jdk.javaapi.CollectionConverters.asScala(all).toSeq(), handler,
                ClassTag$.MODULE$.apply(Object.class));
    }

    /** What a task computes of its shards. */
    interface OnShards<S, T> extends Serializable {
        T apply(List<S> shards);
    }

    /**
     * A task's function: {@code f} on its shards. A class taking the task context, rather than a lambda: Spark's
     * closure cleaner reads a closure's bytecode from the jars at every job, and wraps a function of the partition
     * alone in one of its own, a good part of a round's driver time.
     */
    private static final class OnTask<S extends Shard, T> extends scala.runtime.AbstractFunction2<TaskContext,
            scala.collection.Iterator<S>, T> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final OnShards<S, T> f;

        OnTask(OnShards<S, T> f) {
            this.f = f;
        }

        @Override
        public T apply(TaskContext context, scala.collection.Iterator<S> shards) {
            List<S> mine = new ArrayList<>();
            while (shards.hasNext()) {
                mine.add(shards.next());
            }
            return f.apply(mine);
        }
    }

    /** Hands values to a sink in the order of their keys 0, 1, 2, …, whatever order they come in. */
    private static final class InOrder<T> {
        private final TreeMap<Integer, T> early = new TreeMap<>();
        private final Consumer<T> sink;
        private int next;

        InOrder(Consumer<T> sink) {
            this.sink = sink;
        }

        void accept(int key, T value) {
            early.put(key, value);
            while (!early.isEmpty() && early.firstKey() == next) {
                sink.accept(early.pollFirstEntry().getValue());
                next++;
            }
        }
    }

    /** The cached shards, packed into no more partitions than task slots. */
    private RDD<S> packed(int n) {
        return corpus.workers() > n
                ? corpus.shards().rdd().coalesce(n, false, Option.apply(new InTurn()), null)
                : corpus.shards().rdd();
    }

    /**
     * Packs shards into n tasks the same way every round, shard k into task k mod n: balanced to one shard; one node
     * of the round's sum ({@link ShardSum}) a task when n is a power of two; and a task finds on its executor the
     * states its shards left there the round before when it runs there again. (Spark's default coalescer groups by
     * data locality, which need not be any of these. A task here prefers no executor: preferring its first shard's
     * made both of two tasks wait for the same executor, up to spark.locality.wait a round; consecutive blocks of
     * shards did the same.)
     */
    private static final class InTurn implements PartitionCoalescer, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public PartitionGroup[] coalesce(int n, RDD<?> parent) {
            PartitionGroup[] groups = new PartitionGroup[n];
            for (int g = 0; g < n; g++) {
                groups[g] = new PartitionGroup(Option.empty());
            }
            Partition[] shards = parent.partitions();
            for (int k = 0; k < shards.length; k++) {
                groups[k % n].partitions().addOne(shards[k]);
            }
            return groups;
        }
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
        InOrder<Validation> inOrder = new InOrder<>(v -> total[0] = total[0].plus(v));
        perTask(shards -> t.validate(w.value(), shards), inOrder::accept);
        w.destroy();
        return total[0];
    }

    /** Where the rounds spent their time (see {@link RoundCosts}). */
    public String describeRounds() {
        return costs.describe();
    }

    @Override
    public void close() {
        if (channel != null) {
            if (epochJob != null) {   // a run that failed mid-epoch: its tasks wait for rounds that will not come
                jsc.cancelJobGroup(runId);
            }
            channel.close();
        }
        roundJobs.shutdownNow();
        costs.close();
        if (epochStart != null) {
            epochStart.destroy();
        }
        rounds.forEach(Broadcast::destroy);
        rounds.clear();
        corpus.close();
    }
}
