package dev.seqspark.train;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Σ_k b_k·w_k over the shards k = 0 … W−1 of a round (b_k the batches shard k trained, w_k its weights), in double,
 * added up along one fixed binary tree over the shards: with L = ⌈log2 W⌉, the node of height h and residue r sums
 * the shards k &lt; W with k ≡ r (mod 2^(L−h)) — a leaf (h = 0) is shard r, the root (h = L) every shard — as its two
 * children added (residues r and r + 2^(L−h−1) one level down). Whoever adds which nodes in whatever order — the
 * driver one shard at a time, or each task its shards first and the driver the tasks' sums — the root has the same
 * bits, since every node is the same two values added (floating-point addition is commutative, only not
 * associative). The tree is cut by residue because Spark's tasks hold shards k ≡ g (mod n): for n a power of two
 * a task's shards are one node, and it sends one sum rather than each shard's weights.
 */
public final class ShardSum {

    /**
     * A node of the tree: {@code sum} its shards' Σ b·w in double, or, while it is one shard's leaf, that shard's
     * float {@code weights} and {@code batches} (b·w is formed only where it is added: a leaf meeting its sibling costs
     * one pass over the weights, not a conversion and an addition); both null when no shard under it trained a batch.
     */
    public record Node(int height, int residue, double[] sum, FloatBuffer weights, int batches) {
        /** Several shards' sum (null: none of them trained a batch). */
        public static Node of(int height, int residue, double[] sum) {
            return new Node(height, residue, sum, null, 0);
        }

        /** Whether it is a single shard's float weights (a leaf, or a node whose other shards trained nothing). */
        public boolean isWeights() {
            return weights != null;
        }

        boolean empty() {
            return sum == null && weights == null;
        }

        Node at(int h, int r) {
            return new Node(h, r, sum, weights, batches);
        }

        /** Σ b·w in double; a single shard's b·w is exact (a float times a small integer). */
        double[] values() {
            if (weights == null) {
                return sum;
            }
            double[] v = new double[weights.remaining()];
            double b = batches;
            for (int i = 0; i < v.length; i++) {
                v[i] = b * weights.get(i);
            }
            return v;
        }
    }

    private final int shards;
    private final int top;                                     // the root's height: ⌈log2 W⌉
    private final Map<Long, Node> open = new HashMap<>();      // nodes whose sibling has not come
    private boolean complete;
    private Node root;
    private double[] total;

    public ShardSum(int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("a round has at least one shard, got " + shards);
        }
        this.shards = shards;
        this.top = 32 - Integer.numberOfLeadingZeros(shards - 1);
    }

    /**
     * Shard k's leaf: its weights w and batches b (none: an empty leaf). The weights are read when the leaf is added
     * to its sibling or the sum is taken, so they must not change until then.
     */
    public static Node leaf(int shard, FloatBuffer weights, int batches) {
        return batches == 0 ? Node.of(0, shard, null) : new Node(0, shard, null, weights, batches);
    }

    /** Adds a node (its array becomes this sum's), and every parent it completes. */
    public void add(Node node) {
        if (complete) {
            throw new IllegalStateException("the sum is complete; node " + node.height() + "/" + node.residue()
                    + " is one too many");
        }
        int height = node.height();
        int residue = node.residue();
        Node v = node;
        while (height < top) {
            int half = 1 << (top - height - 1);   // the parent's modulus
            int sibling = residue ^ half;
            if (sibling < shards) {               // else the sibling holds no shard: the parent is this node
                Node other = open.remove(key(height, sibling));
                if (other == null) {
                    open.put(key(height, residue), v);
                    return;
                }
                v = plus(v, other);
            }
            height++;
            residue &= half - 1;
        }
        root = v.at(top, 0);
        complete = true;
    }

    private static long key(int height, int residue) {
        return ((long) height << 32) | residue;
    }

    /** Two siblings added; each b·w is exact and addition commutes, so the bits do not depend on which came first. */
    private static Node plus(Node a, Node b) {
        if (a.empty()) {
            return b;
        }
        if (b.empty()) {
            return a;
        }
        if (a.isWeights() && b.isWeights()) {
            double[] v = new double[a.weights().remaining()];
            double ba = a.batches();
            double bb = b.batches();
            FloatBuffer wa = a.weights();
            FloatBuffer wb = b.weights();
            for (int i = 0; i < v.length; i++) {
                v[i] = ba * wa.get(i) + bb * wb.get(i);
            }
            return Node.of(0, 0, v);
        }
        if (a.isWeights() || b.isWeights()) {
            Node leaf = a.isWeights() ? a : b;
            double[] v = (a.isWeights() ? b : a).sum();
            double bl = leaf.batches();
            FloatBuffer w = leaf.weights();
            for (int i = 0; i < v.length; i++) {
                v[i] += bl * w.get(i);
            }
            return Node.of(0, 0, v);
        }
        double[] v = a.sum();
        double[] u = b.sum();
        for (int i = 0; i < v.length; i++) {
            v[i] += u[i];
        }
        return Node.of(0, 0, v);
    }

    /** Whether every shard's leaf is in. */
    public boolean complete() {
        return complete;
    }

    /** Σ b_k·w_k; null when no shard trained a batch. Only once complete. */
    public double[] total() {
        if (!complete) {
            throw new IllegalStateException("the sum still waits for " + open.size() + " or more nodes");
        }
        if (total == null) {
            total = root.values();
        }
        return total;
    }

    /**
     * What this partial sum holds, as nodes another sum adds: the root when complete, else the nodes still waiting
     * for their siblings (the shards k ≡ g (mod n) leave one node when n is a power of two).
     */
    public List<Node> nodes() {
        List<Node> out = new ArrayList<>();
        if (complete) {
            out.add(root);
        } else {
            open.forEach((k, v) -> out.add(v.at((int) (k >>> 32), (int) (long) k)));
        }
        return out;
    }
}
