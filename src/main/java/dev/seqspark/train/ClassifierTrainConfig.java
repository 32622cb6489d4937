package dev.seqspark.train;

import java.util.Arrays;

/**
 * How a shard of a classification task is trained.
 * <ul>
 *   <li>{@code batchSize}: records per minibatch (records are bucketed by length, see {@link ClassifierTask#plan});</li>
 *   <li>{@code optimizer} ({@code sgd}|{@code adam}), {@code lr}, {@code clip} (max global gradient norm; 0 = off);</li>
 *   <li>{@code seed}: every random choice (initial weights, batch plans, dropout) derives from it;</li>
 *   <li>{@code classWeights}: torch.nn.CrossEntropyLoss's {@code weight} (one per class, in class-index order),
 *       or null for the plain mean.</li>
 * </ul>
 */
public record ClassifierTrainConfig(int batchSize, String optimizer, double lr, double clip, long seed, float[] classWeights)
        implements Optimization, java.io.Serializable {

    public ClassifierTrainConfig {
        Optimization.check(batchSize, optimizer, lr, clip);
        if (classWeights != null) {
            classWeights = classWeights.clone();
            for (float w : classWeights) {
                if (!(w >= 0) || Float.isInfinite(w)) {
                    throw new IllegalArgumentException("class weights must be finite and >= 0, got " + Arrays.toString(classWeights));
                }
            }
        }
    }

    @Override
    public float[] classWeights() {
        return classWeights == null ? null : classWeights.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassifierTrainConfig c && c.batchSize == batchSize && c.optimizer.equals(optimizer)
                && c.lr == lr && c.clip == clip && c.seed == seed && Arrays.equals(c.classWeights, classWeights);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(batchSize, optimizer, lr, clip, seed) * 31 + Arrays.hashCode(classWeights);
    }
}
