package dev.seqspark.spark;

import dev.seqspark.train.RoundSum;
import dev.seqspark.train.ShardTrainer;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import scala.Tuple2;

/**
 * Sums the shards' results in a fixed tree: groups of {@code fanIn} consecutive shards are merged in shard
 * order on executors, level by level, and the last ≤ fanIn partial sums on the driver, in order. Like
 * treeAggregate, the driver never holds more than fanIn models; unlike it, the order of floating-point
 * additions never depends on which task finished first, so a run — retried tasks and all — always gives
 * the same weights.
 */
final class TreeSum {
    static final int FAN_IN = 8;

    /** One shard's training result and how long it took. */
    record Outcome(ShardTrainer.Result result, double seconds) implements Serializable {}

    private TreeSum() {}

    static RoundSum sum(JavaPairRDD<Integer, Outcome> perShard, int shards) {
        if (shards <= FAN_IN) {
            return mergeOutcomes(perShard.collect());
        }
        int groups = (shards + FAN_IN - 1) / FAN_IN;
        JavaPairRDD<Integer, RoundSum> level = perShard
                .mapToPair(t -> new Tuple2<>(t._1() / FAN_IN, t))
                .groupByKey(new HashPartitioner(groups))
                .mapValues(TreeSum::mergeOutcomes);
        int n = groups;
        while (n > FAN_IN) {
            n = (n + FAN_IN - 1) / FAN_IN;
            level = level.mapToPair(t -> new Tuple2<>(t._1() / FAN_IN, t))
                    .groupByKey(new HashPartitioner(n))
                    .mapValues(TreeSum::mergeSums);
        }
        return mergeSums(level.collect());
    }

    private static RoundSum mergeOutcomes(Iterable<Tuple2<Integer, Outcome>> items) {
        List<Tuple2<Integer, Outcome>> sorted = new ArrayList<>();
        items.forEach(sorted::add);
        sorted.sort(Comparator.comparingInt(Tuple2::_1));
        RoundSum s = new RoundSum();
        for (Tuple2<Integer, Outcome> t : sorted) {
            s.add(t._1(), t._2().result(), t._2().seconds());
        }
        return s;
    }

    private static RoundSum mergeSums(Iterable<Tuple2<Integer, RoundSum>> items) {
        List<Tuple2<Integer, RoundSum>> sorted = new ArrayList<>();
        items.forEach(sorted::add);
        sorted.sort(Comparator.comparingInt(Tuple2::_1));
        RoundSum s = new RoundSum();
        for (Tuple2<Integer, RoundSum> t : sorted) {
            s.merge(t._2());
        }
        return s;
    }
}
