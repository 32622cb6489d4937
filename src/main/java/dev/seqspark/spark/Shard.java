package dev.seqspark.spark;

/**
 * One worker's data, cached on an executor: its contiguous range of the training stream, and its block
 * of rows of the validation layout ({@code validRows} rows; row r reads valid[r·rowLength …]).
 */
public record Shard(int index, int[] train, int[] valid, int validRows) implements java.io.Serializable {}
