package dev.seqspark.spark;

import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.Evaluator;
import dev.seqspark.train.TokenShard;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * A corpus read by Spark, tokenized on the executors and cut into W shards of contiguous token ranges,
 * cached there for every epoch. Shard k holds tokens [⌊k·N/W⌋, ⌊(k+1)·N/W⌋) of the training stream
 * whatever the input's splits were: one pass counts each partition's tokens (and, unless a vocabulary is
 * given, their frequencies and first positions), the driver turns counts into global offsets and the
 * vocabulary, a second pass encodes and sends every piece to its shard. The validation stream (the last
 * {@code validFraction} of the stream) is cut by rows of its evaluation layout, so the distributed
 * validation loss is exactly the single-machine one.
 */
public final class ShardedCorpus extends Corpus<TokenShard> {
    public final long tokens;
    public final long trainTokens;
    public final long validTokens;
    public final Evaluator.Dims validDims;

    private ShardedCorpus(Vocab vocab, long tokens, long trainTokens, long[] trainBounds, Evaluator.Dims validDims,
                          JavaRDD<TokenShard> shards) {
        super(vocab, shards, sizes(trainBounds));
        this.tokens = tokens;
        this.trainTokens = trainTokens;
        this.validTokens = tokens - trainTokens;
        this.validDims = validDims;
    }

    private static long[] sizes(long[] bounds) {
        long[] out = new long[bounds.length - 1];
        for (int k = 0; k < out.length; k++) {
            out[k] = bounds[k + 1] - bounds[k];
        }
        return out;
    }

    @Override
    public boolean hasValidation() {
        return validDims.rows() > 0;
    }

    @Override
    public String describe(String name) {
        return String.format("corpus %s: %,d tokens (%,d training, %,d validation), vocabulary %d", name, tokens,
                trainTokens, validTokens, vocab.size());
    }

    /** Per partition: its token count and, when building a vocabulary, token → {count, first local index}. */
    record PartitionCount(int index, long[] tokens, LinkedHashMap<String, long[]> stats) implements Serializable {
        PartitionCount(int index, boolean withStats) {
            this(index, new long[1], withStats ? new LinkedHashMap<>() : null);
        }

        /** Counts the partition's next token. */
        void add(String token) {
            if (stats != null) {
                long[] s = stats.get(token);
                if (s == null) {
                    stats.put(token, new long[] {1, tokens[0]});
                } else {
                    s[0]++;
                }
            }
            tokens[0]++;
        }
    }

    /** A token's corpus-wide count and first occurrence (partition, index within it), merged on executors. */
    record TokenStats(long count, int partition, long local) implements Serializable {
        TokenStats merge(TokenStats o) {
            boolean first = partition < o.partition || (partition == o.partition && local <= o.local);
            return new TokenStats(count + o.count, first ? partition : o.partition, first ? local : o.local);
        }

        boolean before(TokenStats o) {
            return partition < o.partition || (partition == o.partition && local < o.local);
        }
    }

    /** What the vocabulary keeps first: higher count, then earlier first occurrence (d2l's stable sort). */
    static final class ByFrequency implements Comparator<Tuple2<String, TokenStats>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Tuple2<String, TokenStats> a, Tuple2<String, TokenStats> b) {
            int c = Long.compare(b._2().count(), a._2().count());
            return c != 0 ? c : a._2().before(b._2()) ? -1 : b._2().before(a._2()) ? 1 : 0;
        }
    }

    /** A run of encoded tokens bound for one shard; {@code start} is its global index in its stream. */
    record Piece(boolean valid, long start, int[] ids) implements Serializable {}

    /** What the encoding pass needs, broadcast once. */
    record Plan(Tokenizer tokenizer, Vocab vocab, long[] partitionStarts, long total, long cut, long[] trainBounds,
                long[][] validSlices) implements Serializable {}

    /**
     * Tokenizes {@code input}, the corpus's lines (a text column's records, one line each, in the RDD's order; {@code
     * name} names it in messages), with {@code tokenizer}; builds the vocabulary (d2l order, {@code minFreq}, at most
     * {@code maxVocab} tokens, {@code <unk>} included; 0: no limit) unless {@code vocab} is given; splits off the
     * validation tail; cuts W = {@code workers} shards. Token counts are merged on the executors; only the tokens the
     * vocabulary keeps reach the driver. Fails with {@link IllegalArgumentException} on an empty corpus, or one whose
     * shards would hold fewer than {@code minShardTokens} training tokens (checked after counting, before encoding).
     */
    public static ShardedCorpus build(SparkSession spark, JavaRDD<String> input, String path, Tokenizer tokenizer,
                                      Vocab vocab, int minFreq, int maxVocab, double validFraction, int workers,
                                      int evalBatch, int evalSteps, long minShardTokens) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        jsc.setJobDescription("seqspark: count tokens of " + path);
        JavaRDD<String> lines = input.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            boolean buildVocab = vocab == null;
            JavaRDD<PartitionCount> perPartition = lines.mapPartitionsWithIndex((idx, it) -> {
                PartitionCount pc = new PartitionCount(idx, buildVocab);
                while (it.hasNext()) {
                    tokenizer.lineTokens(it.next(), pc::add);
                }
                return Collections.singletonList(pc).iterator();
            }, true).persist(StorageLevel.MEMORY_AND_DISK());
            List<PartitionCount> counts = new ArrayList<>(
                    perPartition.map(pc -> new PartitionCount(pc.index(), pc.tokens(), null)).collect());
            counts.sort(Comparator.comparingInt(PartitionCount::index));
            long[] starts = new long[counts.size()];
            long raw = 0;
            for (int p = 0; p < counts.size(); p++) {
                starts[p] = raw;
                raw += counts.get(p).tokens()[0];
            }
            long total = tokenizer.dropsLastToken() && raw > 0 ? raw - 1 : raw;
            if (total == 0) {
                perPartition.unpersist(false);
                throw new IllegalArgumentException("the corpus " + path + " has no tokens (empty, or nothing left after cleaning)");
            }
            jsc.setJobDescription("seqspark: vocabulary of " + path);
            Vocab v = buildVocab ? vocabulary(perPartition, tokenizer.dropsLastToken(), minFreq, maxVocab) : vocab;
            perPartition.unpersist(false);
            long cut = total - (long) (total * validFraction);
            long[] bounds = new long[workers + 1];
            for (int k = 0; k <= workers; k++) {
                bounds[k] = TokenShard.bound(cut, k, workers);
            }
            for (int k = 0; k < workers; k++) {
                if (bounds[k + 1] - bounds[k] < minShardTokens) {
                    throw new IllegalArgumentException(String.format("the corpus is too small for %d workers: shard %d "
                            + "would have %,d training tokens, one batch needs %,d (batch_size x num_steps + num_steps + 1); "
                            + "lower dist.workers, train.batch_size or train.num_steps", workers, k,
                            bounds[k + 1] - bounds[k], minShardTokens));
                }
            }
            Evaluator.Dims dims = Evaluator.Dims.of(total - cut, evalBatch, evalSteps);
            long[][] validSlices = new long[workers][];
            for (int k = 0; k < workers; k++) {
                long[] vs = TokenShard.validSlice(dims, k, workers);
                validSlices[k] = new long[] {cut + vs[0], cut + vs[1], vs[2]};
            }
            Broadcast<Plan> plan = jsc.broadcast(new Plan(tokenizer, v, starts, total, cut, bounds, validSlices));
            jsc.setJobDescription("seqspark: encode and shard " + path + " into " + workers + " shards");
            JavaPairRDD<Integer, Piece> pieces = JavaPairRDD.fromJavaRDD(
                    lines.mapPartitionsWithIndex((idx, it) -> encode(plan.value(), idx, it), true));
            int w = workers;
            JavaRDD<TokenShard> shards = pieces.partitionBy(new HashPartitioner(workers))
                    .mapPartitionsWithIndex((k, it) -> assemble(plan.value(), k, w, it), true)
                    .persist(StorageLevel.MEMORY_AND_DISK());
            shards.count();
            plan.unpersist(false);
            return new ShardedCorpus(v, total, cut, bounds, dims, shards);
        } finally {
            lines.unpersist(false);
        }
    }

    /**
     * d2l's vocabulary (frequency, ties by first occurrence; min_freq; at most maxVocab tokens), counted on
     * the executors: per-partition counts are merged by key there, filtered by min_freq, and only what the
     * vocabulary keeps (the maxVocab most frequent, when capped) is brought to the driver.
     */
    static Vocab vocabulary(JavaRDD<PartitionCount> perPartition, boolean dropLastSpace, int minFreq, int maxVocab) {
        JavaPairRDD<String, TokenStats> merged = perPartition.flatMapToPair(pc -> {
            List<Tuple2<String, TokenStats>> out = new ArrayList<>(pc.stats().size());
            pc.stats().forEach((tok, st) -> out.add(new Tuple2<>(tok, new TokenStats(st[0], pc.index(), st[1]))));
            return out.iterator();
        }).reduceByKey(TokenStats::merge).mapToPair(t -> {
            // The stream's final token is a space that is not part of it (letters-only char mode).
            boolean last = dropLastSpace && t._1().equals(" ");
            return last ? new Tuple2<>(t._1(), new TokenStats(t._2().count() - 1, t._2().partition(), t._2().local())) : t;
        }).filter(t -> t._2().count() > 0 && t._2().count() >= minFreq);
        List<Tuple2<String, TokenStats>> kept = maxVocab > 0
                ? merged.takeOrdered(maxVocab, new ByFrequency())   // <unk> occurring in the text is skipped below
                : merged.collect();
        List<Tuple2<String, TokenStats>> byFirst = new ArrayList<>(kept);
        byFirst.sort((a, b) -> a._2().before(b._2()) ? -1 : b._2().before(a._2()) ? 1 : 0);
        LinkedHashMap<String, Long> ordered = new LinkedHashMap<>();
        byFirst.forEach(t -> ordered.put(t._1(), t._2().count()));
        return Vocab.build(ordered, minFreq, maxVocab, List.of());
    }

    private static Iterator<Tuple2<Integer, Piece>> encode(Plan plan, int partition, Iterator<String> lines) {
        int[][] buf = {new int[1 << 12]};
        int[] n = {0};
        while (lines.hasNext()) {
            plan.tokenizer().lineTokens(lines.next(), t -> {
                if (n[0] == buf[0].length) {
                    buf[0] = Arrays.copyOf(buf[0], buf[0].length * 2);
                }
                buf[0][n[0]++] = plan.vocab().id(t);
            });
        }
        long s = plan.partitionStarts()[partition];
        long e = Math.min(s + n[0], plan.total());
        List<Tuple2<Integer, Piece>> out = new ArrayList<>();
        long[] tb = plan.trainBounds();
        for (int k = 0; k + 1 < tb.length; k++) {
            addPiece(out, k, false, Math.max(s, tb[k]), Math.min(e, tb[k + 1]), s, buf[0]);
        }
        for (int k = 0; k < plan.validSlices().length; k++) {
            long[] vs = plan.validSlices()[k];
            addPiece(out, k, true, Math.max(s, vs[0]), Math.min(e, vs[1]), s, buf[0]);
        }
        return out.iterator();
    }

    private static void addPiece(List<Tuple2<Integer, Piece>> out, int shard, boolean valid, long from, long to,
                                 long partitionStart, int[] ids) {
        if (from < to) {
            out.add(new Tuple2<>(shard, new Piece(valid, from,
                    Arrays.copyOfRange(ids, (int) (from - partitionStart), (int) (to - partitionStart)))));
        }
    }

    private static Iterator<TokenShard> assemble(Plan plan, int k, int workers, Iterator<Tuple2<Integer, Piece>> it) {
        List<Piece> train = new ArrayList<>();
        List<Piece> valid = new ArrayList<>();
        it.forEachRemaining(t -> (t._2().valid() ? valid : train).add(t._2()));
        if (k >= workers) {
            return Collections.emptyIterator();
        }
        long[] vs = plan.validSlices()[k];
        int[] tr = concat(train, plan.trainBounds()[k], plan.trainBounds()[k + 1]);
        int[] va = concat(valid, vs[0], vs[1]);
        return Collections.singletonList(new TokenShard(k, tr, va, (int) vs[2])).iterator();
    }

    /** The pieces, in stream order, must tile [from, to) exactly. */
    private static int[] concat(List<Piece> pieces, long from, long to) {
        pieces.sort(Comparator.comparingLong(Piece::start));
        int[] out = new int[(int) (to - from)];
        long at = from;
        for (Piece p : pieces) {
            if (p.start() != at) {
                throw new IllegalStateException("shard assembly: expected tokens from " + at + ", got a piece at " + p.start());
            }
            System.arraycopy(p.ids(), 0, out, (int) (at - from), p.ids().length);
            at += p.ids().length;
        }
        if (at != to) {
            throw new IllegalStateException("shard assembly: tokens [" + at + ", " + to + ") are missing");
        }
        return out;
    }
}
