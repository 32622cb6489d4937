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

    /** A node of the tree; {@code sum} is null when no shard under it trained a batch. */
    public record Node(int height, int residue, double[] sum) {}

    private final int shards;
    private final int top;                                     // the root's height: ⌈log2 W⌉
    private final Map<Long, double[]> open = new HashMap<>();  // nodes whose sibling has not come (values may be null)
    private boolean complete;
    private double[] root;

    public ShardSum(int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("a round has at least one shard, got " + shards);
        }
        this.shards = shards;
        this.top = 32 - Integer.numberOfLeadingZeros(shards - 1);
    }

    /** Shard k's leaf: b·w in double (exact: a float times a small integer), null when it trained no batch. */
    public static Node leaf(int shard, FloatBuffer weights, int batches) {
        if (batches == 0) {
            return new Node(0, shard, null);
        }
        double[] v = new double[weights.remaining()];
        double b = batches;
        for (int i = 0; i < v.length; i++) {
            v[i] = b * weights.get(i);
        }
        return new Node(0, shard, v);
    }

    /** Adds a node (its array becomes this sum's), and every parent it completes. */
    public void add(Node node) {
        if (complete) {
            throw new IllegalStateException("the sum is complete; node " + node.height() + "/" + node.residue()
                    + " is one too many");
        }
        int height = node.height();
        int residue = node.residue();
        double[] v = node.sum();
        while (height < top) {
            int half = 1 << (top - height - 1);   // the parent's modulus
            int sibling = residue ^ half;
            if (sibling < shards) {               // else the sibling holds no shard: the parent is this node
                long key = key(height, sibling);
                if (!open.containsKey(key)) {
                    open.put(key(height, residue), v);
                    return;
                }
                v = plus(v, open.remove(key));
            }
            height++;
            residue &= half - 1;
        }
        root = v;
        complete = true;
    }

    private static long key(int height, int residue) {
        return ((long) height << 32) | residue;
    }

    private static double[] plus(double[] a, double[] b) {
        if (a == null) {
            return b;
        }
        if (b != null) {
            for (int i = 0; i < a.length; i++) {
                a[i] += b[i];
            }
        }
        return a;
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
        return root;
    }

    /**
     * What this partial sum holds, as nodes another sum adds: the root when complete, else the nodes still waiting
     * for their siblings (the shards k ≡ g (mod n) leave one node when n is a power of two).
     */
    public List<Node> nodes() {
        List<Node> out = new ArrayList<>();
        if (complete) {
            out.add(new Node(top, 0, root));
        } else {
            open.forEach((k, v) -> out.add(new Node((int) (k >>> 32), (int) (long) k, v)));
        }
        return out;
    }
}
