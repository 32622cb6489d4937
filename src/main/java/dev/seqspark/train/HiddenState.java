package dev.seqspark.train;

/**
 * The recurrent state a shard carries from one batch to the next in sequential partitioning: h (and c
 * for LSTM), each (layers, batch, hidden). Values only (d2l's detach). Kept per shard between rounds.
 */
public record HiddenState(float[] h, float[] c) implements java.io.Serializable {
    public HiddenState copy() {
        return new HiddenState(h.clone(), c == null ? null : c.clone());
    }
}
