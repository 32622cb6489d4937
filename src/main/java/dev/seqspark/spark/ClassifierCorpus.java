package dev.seqspark.spark;

import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.LabeledRecords;
import dev.seqspark.train.RecordShard;
import dev.seqspark.train.Seeds;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * The records of a classification task read by Spark, encoded on the executors and cut into W shards cached
 * there for every epoch: record i of the input (its position in the Dataset's order) goes to shard i mod W, so
 * every shard sees every part of the input (a file sorted by label still gives shards of the same mix).
 *
 * <p>One pass counts the labels (unless given: {@link Labels}); the validation records are the given validation
 * Dataset, or else the records whose uniform draw from (seed, i) falls below {@code validFraction}; the
 * vocabulary is counted on the executors over the training records only (d2l's order: frequency, ties by first
 * occurrence; min_freq, max_vocab), unless given; then every record is tokenized, cut to max_length, encoded
 * ({@code <unk>} for unknown tokens) and sent to its shard. Records without a token (empty or null text, or
 * nothing left after cleaning) are skipped and counted. Validation labels must be classes of the training data.
 */
public final class ClassifierCorpus extends Corpus<RecordShard> {
    public final Labels labels;
    public final long trainRecords;
    public final long validRecords;
    public final long trainTokens;
    public final long validTokens;
    public final long emptySkipped;
    public final long truncated;
    /** Training records per class, in class order. */
    public final long[] trainPerClass;
    private final int maxLength;

    /**
     * How records become shards: the text and label columns, the tokenizer and vocabulary limits, truncation
     * (0: none), the validation fraction (used when no validation Dataset is given), the seed of that split, W.
     */
    public record Options(String textCol, String labelCol, Tokenizer tokenizer, int minFreq, int maxVocab, int maxLength,
                          double validFraction, long seed, int workers) implements Serializable {
        public Options {
            if (workers <= 0) {
                throw new IllegalArgumentException("need at least one worker, got " + workers);
            }
            if (!(validFraction >= 0 && validFraction < 1)) {
                throw new IllegalArgumentException("the validation fraction must be in [0, 1), got " + validFraction);
            }
            if (maxLength < 0) {
                throw new IllegalArgumentException("max_length must be 0 (no limit) or positive, got " + maxLength);
            }
        }
    }

    private ClassifierCorpus(Vocab vocab, Labels labels, int workers, List<RecordShard.Stats> stats,
                             JavaRDD<RecordShard> shards, int maxLength) {
        super(vocab, shards, recordsPerShard(workers, stats));
        this.maxLength = maxLength;
        this.labels = labels;
        this.trainPerClass = new long[labels.size()];
        long tr = 0, va = 0, tt = 0, vt = 0, em = 0, cut = 0;
        for (RecordShard.Stats s : stats) {
            tr += s.trainRecords();
            va += s.validRecords();
            tt += s.trainTokens();
            vt += s.validTokens();
            em += s.emptySkipped();
            cut += s.truncated();
            for (int c = 0; c < trainPerClass.length; c++) {
                trainPerClass[c] += s.trainPerClass()[c];
            }
        }
        this.trainRecords = tr;
        this.validRecords = va;
        this.trainTokens = tt;
        this.validTokens = vt;
        this.emptySkipped = em;
        this.truncated = cut;
    }

    private static long[] recordsPerShard(int workers, List<RecordShard.Stats> stats) {
        long[] out = new long[workers];
        stats.forEach(st -> out[st.index()] = st.trainRecords());
        return out;
    }

    @Override
    public boolean hasValidation() {
        return validRecords > 0;
    }

    @Override
    public String describe(String name) {
        StringBuilder classes = new StringBuilder();
        for (int k = 0; k < labels.size() && k < 10; k++) {
            classes.append(k == 0 ? "" : ", ").append(labels.names().get(k)).append(' ')
                    .append(String.format("%,d", trainPerClass[k]));
        }
        return String.format("data %s: %,d training records (%,d tokens), %,d validation; %d classes (%s%s); "
                        + "vocabulary %,d%s%s", name, trainRecords, trainTokens, validRecords, labels.size(), classes,
                labels.size() > 10 ? ", …" : "", vocab.size(),
                emptySkipped > 0 ? String.format("; %,d empty texts skipped", emptySkipped) : "",
                truncated > 0 ? String.format("; %,d cut to %d tokens", truncated, maxLength) : "");
    }

    /** One encoded record on its way to its shard. */
    record Encoded(boolean valid, long index, int label, int[] ids, boolean truncated) implements Serializable {}

    /** What the encoding pass needs, broadcast once. */
    record Plan(Options options, Vocab vocab, Labels labels) implements Serializable {}

    /**
     * Reads, splits, counts and encodes {@code data} (and {@code validData}, may be null) into W shards. {@code vocab}
     * and {@code labels} null: built from the training records. Fails with a one-line IllegalArgumentException on a
     * missing or non-string text column, a missing label column, null labels, a single class, validation labels the
     * training data does not have, no training records, or fewer training records than workers.
     */
    public static ClassifierCorpus build(SparkSession spark, Dataset<Row> data, Dataset<Row> validData, Options o,
                                         Vocab vocab, Labels labels) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Dataset<Row> in = columns(data, o);
        Dataset<Row> vin = validData == null ? null : columns(validData, o);
        jsc.setJobDescription("seqspark: labels of the training data");
        Labels l = labels != null ? labels : Labels.fit(in, o.labelCol());
        if (labels != null) {
            checkLabels(in, o.labelCol(), l, "training record(s) have labels the model does not have");
        }
        if (vin != null) {
            checkLabels(vin, o.labelCol(), l, "validation record(s) have labels the training data does not have");
        }
        JavaPairRDD<Row, Long> indexed = in.javaRDD().zipWithIndex().persist(StorageLevel.MEMORY_AND_DISK());
        try {
            boolean split = vin == null;
            double fraction = o.validFraction();
            long seed = o.seed();
            Vocab v = vocab;
            if (v == null) {
                jsc.setJobDescription("seqspark: vocabulary of the training records");
                JavaRDD<ShardedCorpus.PartitionCount> perPartition = indexed.mapPartitionsWithIndex((idx, it) -> {
                    ShardedCorpus.PartitionCount pc = new ShardedCorpus.PartitionCount(idx, true);
                    while (it.hasNext()) {
                        Tuple2<Row, Long> t = it.next();
                        if (!(split && isValid(seed, t._2(), fraction))) {
                            List<String> toks = o.tokenizer().textTokens(text(t._1()));
                            toks.subList(0, o.maxLength() > 0 ? Math.min(o.maxLength(), toks.size()) : toks.size())
                                    .forEach(pc::add);
                        }
                    }
                    return Collections.singletonList(pc).iterator();
                }, true);
                v = ShardedCorpus.vocabulary(perPartition, false, o.minFreq(), o.maxVocab());
            }
            Broadcast<Plan> plan = jsc.broadcast(new Plan(o, v, l));
            int w = o.workers();
            jsc.setJobDescription("seqspark: encode and shard the records into " + w + " shards");
            JavaPairRDD<Integer, Encoded> train = indexed.mapPartitionsToPair(it -> encode(plan.value(), it, split, false));
            JavaPairRDD<Integer, Encoded> all = train;
            if (vin != null) {
                all = train.union(vin.javaRDD().zipWithIndex().mapPartitionsToPair(it -> encode(plan.value(), it, false, true)));
            }
            JavaRDD<RecordShard> shards = all.partitionBy(new HashPartitioner(w))
                    .mapPartitionsWithIndex((k, it) -> assemble(k, w, it), true)
                    .persist(StorageLevel.MEMORY_AND_DISK());
            int classes = l.size();
            List<RecordShard.Stats> stats = new ArrayList<>(shards.map(s -> s.stats(classes)).collect());
            plan.unpersist(false);
            stats.sort(Comparator.comparingInt(RecordShard.Stats::index));
            ClassifierCorpus c = new ClassifierCorpus(v, l, w, stats, shards, o.maxLength());
            try {
                c.check();
            } catch (RuntimeException e) {
                c.close();
                throw e;
            }
            return c;
        } finally {
            indexed.unpersist(false);
        }
    }

    private void check() {
        if (trainRecords == 0) {
            throw new IllegalArgumentException("no training records with a token (" + emptySkipped
                    + " empty or null texts skipped)");
        }
        for (int k = 0; k < workers(); k++) {
            if (shardSize(k) == 0) {
                throw new IllegalArgumentException(String.format("too few records for %d workers: shard %d has no "
                        + "training record (%,d in all); lower dist.workers", workers(), k, trainRecords));
            }
        }
    }

    /** Every label must be a class: checked on the driver, from the distinct values (one small job). */
    private static void checkLabels(Dataset<Row> valid, String labelCol, Labels labels, String problem) {
        Labels.Indexer ix = labels.indexer();
        List<String> unseen = new ArrayList<>();
        long count = 0;
        for (Row r : valid.groupBy(org.apache.spark.sql.functions.col(labelCol)).count().collectAsList()) {
            if (ix.classOf(r, 0) < 0) {
                count += r.getLong(1);
                if (unseen.size() < 5) {
                    unseen.add(r.isNullAt(0) ? "null" : "'" + r.get(0) + "'");
                }
            }
        }
        if (count > 0) {
            throw new IllegalArgumentException(count + " " + problem + " (" + String.join(", ", unseen) + "); the classes are " + labels.names().subList(0, Math.min(10, labels.size()))
                    + (labels.size() > 10 ? "…" : ""));
        }
    }

    /** The text and label columns, checked: the text a string, the label there. */
    private static Dataset<Row> columns(Dataset<Row> data, Options o) {
        if (!Labels.field(data, o.textCol(), "text").dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the text column '" + o.textCol() + "' is "
                    + data.schema().apply(o.textCol()).dataType().simpleString() + ", not a string");
        }
        Labels.field(data, o.labelCol(), "label");
        return data.select(o.textCol(), o.labelCol());
    }

    private static String text(Row r) {
        return r.isNullAt(0) ? "" : r.getString(0);
    }

    /** Record i belongs to the validation split: its uniform draw from (seed, i) is below the fraction. */
    static boolean isValid(long seed, long index, double fraction) {
        return fraction > 0 && (Seeds.derive(seed, 4, index) >>> 11) * 0x1.0p-53 < fraction;
    }

    private static Iterator<Tuple2<Integer, Encoded>> encode(Plan plan, Iterator<Tuple2<Row, Long>> it, boolean split,
                                                             boolean validData) {
        Options o = plan.options();
        Labels.Indexer labels = plan.labels().indexer();
        List<Tuple2<Integer, Encoded>> out = new ArrayList<>();
        while (it.hasNext()) {
            Tuple2<Row, Long> t = it.next();
            long i = t._2();
            boolean valid = validData || (split && isValid(o.seed(), i, o.validFraction()));
            int label = labels.classOf(t._1(), 1);
            if (label < 0) {
                Object raw = t._1().isNullAt(1) ? null : t._1().get(1);
                throw new IllegalArgumentException((validData ? "the validation data" : "record " + i) + " has the label "
                        + (raw == null ? "null" : "'" + raw + "'") + ", which is not a class of the training data "
                        + plan.labels().names().subList(0, Math.min(10, plan.labels().size()))
                        + (plan.labels().size() > 10 ? "…" : ""));
            }
            List<String> toks = o.tokenizer().textTokens(text(t._1()));
            boolean cut = o.maxLength() > 0 && toks.size() > o.maxLength();
            int n = cut ? o.maxLength() : toks.size();
            int[] ids = new int[n];
            for (int k = 0; k < n; k++) {
                ids[k] = plan.vocab().id(toks.get(k));
            }
            out.add(new Tuple2<>((int) (i % o.workers()), new Encoded(valid, i, label, ids, cut)));
        }
        return out.iterator();
    }

    private static Iterator<RecordShard> assemble(int k, int workers, Iterator<Tuple2<Integer, Encoded>> it) {
        List<Encoded> train = new ArrayList<>();
        List<Encoded> valid = new ArrayList<>();
        long empty = 0;
        long cut = 0;
        while (it.hasNext()) {
            Encoded e = it.next()._2();
            if (e.ids().length == 0) {
                empty++;
                continue;
            }
            if (e.truncated()) {
                cut++;
            }
            (e.valid() ? valid : train).add(e);
        }
        if (k >= workers) {
            return Collections.emptyIterator();
        }
        return Collections.singletonList(new RecordShard(k, records(train), records(valid), empty, cut)).iterator();
    }

    /** In input order (by index), whatever order the shuffle delivered them in. */
    private static LabeledRecords records(List<Encoded> list) {
        list.sort(Comparator.comparingLong(Encoded::index));
        int[][] tokens = new int[list.size()][];
        int[] labels = new int[list.size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = list.get(i).ids();
            labels[i] = list.get(i).label();
        }
        return new LabeledRecords(tokens, labels);
    }

    /** The shards' records, in shard order (for tests and the local reference; collects everything). */
    public List<LabeledRecords[]> collect() {
        List<RecordShard> all = new ArrayList<>(shards().collect());
        all.sort(Comparator.comparingInt(RecordShard::index));
        List<LabeledRecords[]> out = new ArrayList<>();
        for (RecordShard s : all) {
            out.add(new LabeledRecords[] {s.train(), s.valid()});
        }
        return out;
    }

}
