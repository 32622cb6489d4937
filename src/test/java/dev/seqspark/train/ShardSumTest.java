package dev.seqspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The round's weight sum has the same bits whatever blocks of shards are summed first and in whatever order. */
class ShardSumTest {

    /** Shard weights spread over many magnitudes, so that a different order of additions would round differently. */
    static float[][] weights(int shards, int size, long seed) {
        Random r = new Random(seed);
        float[][] w = new float[shards][size];
        for (float[] v : w) {
            for (int i = 0; i < size; i++) {
                v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
            }
        }
        return w;
    }

    /** The sum as the driver makes it from tasks holding the given groups of shards, their nodes arriving shuffled. */
    static double[] viaTasks(float[][] w, int[] batches, List<List<Integer>> tasks, long seed) {
        int shards = w.length;
        List<ShardSum.Node> arriving = new ArrayList<>();
        for (List<Integer> task : tasks) {
            ShardSum partial = new ShardSum(shards);
            for (int k : task) {
                partial.add(ShardSum.leaf(k, FloatBuffer.wrap(w[k]), batches[k]));
            }
            arriving.addAll(partial.nodes());
        }
        Collections.shuffle(arriving, new Random(seed));
        ShardSum driver = new ShardSum(shards);
        arriving.forEach(driver::add);
        assertTrue(driver.complete());
        return driver.total();
    }

    /** Shards k ≡ g (mod n) in task g, as Spark packs them. */
    static List<List<Integer>> inTurn(int shards, int n) {
        List<List<Integer>> tasks = new ArrayList<>();
        for (int g = 0; g < n; g++) {
            List<Integer> t = new ArrayList<>();
            for (int k = g; k < shards; k += n) {
                t.add(k);
            }
            tasks.add(t);
        }
        return tasks;
    }

    @Test
    void theSameBitsWhateverTheTasksAndTheirOrder() {
        Random r = new Random(5);
        for (int shards = 1; shards <= 19; shards++) {
            float[][] w = weights(shards, 64, shards);
            int[] batches = new int[shards];
            for (int k = 0; k < shards; k++) {
                batches[k] = 1 + r.nextInt(60);
            }
            batches[shards / 2] = shards > 2 ? 0 : batches[shards / 2];   // a shard without a batch adds nothing
            double[] expected = viaTasks(w, batches, inTurn(shards, shards), 1);
            for (int n = 1; n <= shards; n++) {
                for (long seed = 0; seed < 3; seed++) {
                    assertArrayEquals(expected, viaTasks(w, batches, inTurn(shards, n), seed),
                            "W = " + shards + ", " + n + " tasks");
                    List<Integer> order = new ArrayList<>();   // any other grouping too
                    for (int k = 0; k < shards; k++) {
                        order.add(k);
                    }
                    Collections.shuffle(order, new Random(seed));
                    List<List<Integer>> groups = new ArrayList<>();
                    for (int g = 0; g < n; g++) {
                        groups.add(order.subList(g * shards / n, (g + 1) * shards / n));
                    }
                    assertArrayEquals(expected, viaTasks(w, batches, groups, seed), "W = " + shards + ", shuffled groups");
                }
            }
            double[] plain = new double[64];
            double scale = 0;
            for (int k = 0; k < shards; k++) {
                for (int i = 0; i < 64; i++) {
                    plain[i] += batches[k] * (double) w[k][i];
                    scale = Math.max(scale, Math.abs(batches[k] * (double) w[k][i]));
                }
            }
            for (int i = 0; i < 64; i++) {   // the sum added one after another, up to double rounding of W terms
                assertEquals(plain[i], expected[i], 1e-15 * shards * scale);
            }
        }
    }

    /** The tree's definition, recursively: node (h, r) is its two children added, a leaf b·w in double. */
    static double[] node(float[][] w, int[] batches, int top, int h, int r) {
        if (h == 0) {
            if (r >= w.length || batches[r] == 0) {
                return null;
            }
            double[] v = new double[w[r].length];
            for (int i = 0; i < v.length; i++) {
                v[i] = batches[r] * (double) w[r][i];
            }
            return v;
        }
        int half = 1 << (top - h);   // a child's modulus is twice this node's
        double[] a = node(w, batches, top, h - 1, r);
        double[] b = node(w, batches, top, h - 1, r + half);
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
        return a;
    }

    @Test
    void theBitsOfTheTreesDefinition() {
        Random r = new Random(11);
        for (int shards = 1; shards <= 19; shards++) {
            float[][] w = weights(shards, 32, 100 + shards);
            int[] batches = new int[shards];
            for (int k = 0; k < shards; k++) {
                batches[k] = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(60);   // some shards without a batch
            }
            int top = 32 - Integer.numberOfLeadingZeros(shards - 1);
            double[] expected = node(w, batches, top, top, 0);
            for (int n = 1; n <= shards; n++) {
                double[] got = viaTasks(w, batches, inTurn(shards, n), n);
                if (expected == null) {
                    assertNull(got, "W = " + shards);
                } else {
                    assertArrayEquals(expected, got, "W = " + shards + ", " + n + " tasks");
                }
            }
        }
    }

    @Test
    void oneShardIsItsOwnLeafExactly() {
        float[] w = {0.1f, -3.25f, 1e-30f};
        ShardSum s = new ShardSum(1);
        s.add(ShardSum.leaf(0, FloatBuffer.wrap(w), 7));
        double[] t = s.total();
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], (float) (t[i] / 7));
        }
    }

    @Test
    void aTaskOnPowerOfTwoSlotsSendsOneNode() {
        float[][] w = weights(16, 4, 3);
        for (int n : new int[] {1, 2, 4, 8}) {
            for (int g = 0; g < n; g++) {
                ShardSum partial = new ShardSum(16);
                for (int k = g; k < 16; k += n) {
                    partial.add(ShardSum.leaf(k, FloatBuffer.wrap(w[k]), 2));
                }
                List<ShardSum.Node> nodes = partial.nodes();
                assertEquals(1, nodes.size(), n + " tasks");
                assertEquals(4 - Integer.numberOfTrailingZeros(n), nodes.get(0).height());
                assertEquals(g, nodes.get(0).residue());
            }
        }
    }

    @Test
    void noBatchAnywhereIsNoSumAndIncompleteSumsSaySo() {
        ShardSum s = new ShardSum(3);
        s.add(ShardSum.leaf(0, FloatBuffer.wrap(new float[2]), 0));
        assertThrows(IllegalStateException.class, s::total);
        s.add(ShardSum.leaf(2, FloatBuffer.wrap(new float[2]), 0));
        s.add(ShardSum.leaf(1, FloatBuffer.wrap(new float[2]), 0));
        assertNull(s.total());
        assertThrows(IllegalStateException.class, () -> s.add(ShardSum.leaf(1, FloatBuffer.wrap(new float[2]), 1)));
    }
}
