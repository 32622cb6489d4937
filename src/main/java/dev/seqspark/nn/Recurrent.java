package dev.seqspark.nn;

import static dev.seqspark.nn.Matrices.checkedSize;
import static dev.seqspark.nn.Matrices.grow;
import static dev.seqspark.nn.Matrices.swapBatchTime;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A stacked recurrent layer (torch.nn.RNN / GRU / LSTM semantics, see {@link RecurrentConfig}) with its forward
 * pass and its backward pass through time. Weights are read from, and gradients accumulated into, the flat
 * {@link Params} arrays; every work buffer is kept and reused between calls, so the hot loop allocates
 * nothing. Not thread-safe: one instance per task.
 *
 * <p>Shapes (T = seq_len, B = batch, I = input_size, H = hidden, D = directions, L = layers):
 * <ul>
 *   <li>input: (T, B, I), or (B, T, I) when batch_first; or token ids (T, B) / (B, T) for one-hot input,
 *       where I is the vocabulary size and a token selects a column of weight_ih_l0 (no dense one-hot).</li>
 *   <li>lengths: null (all T), or one per sequence in [0, T], in any order. Steps past a sequence's length
 *       leave its state as it was: its outputs there are 0 and h_n (c_n) hold its last valid step, as with
 *       PyTorch's pack_padded_sequence(enforce_sorted=False).</li>
 *   <li>h0, c0: (L·D, B, H), or null for zeros.</li>
 *   <li>output: (T, B, D·H) or (B, T, D·H); h_n, c_n: (L·D, B, H).</li>
 * </ul>
 * The arrays returned are this layer's buffers: valid until the next call, and not to be modified.
 *
 * <p>Per (layer, direction): the input projection of all T steps at once (one multiply, or a gather for
 * tokens), then per step one multiply {@code h_{t-1}·W_hhᵀ} into the gate buffer and one cell pass
 * ({@link Cell}, {@link Kernels}). Backward per step: one cell pass and one multiply for dh_{t-1}; the weight
 * gradients of all steps in one multiply each after the loop. Rows past their sequence's length are computed
 * with the others and then put back (state carried, gradients passed through) here, once, for every cell.
 */
public final class Recurrent {

    /** Results of {@link #forward}: output, h_n and c_n (null unless LSTM). */
    public record Output(float[] output, float[] hN, float[] cN) {}

    /** Results of {@link #backward}: dL/dinput (null for token input), dL/dh0, dL/dc0 (null unless LSTM). */
    public record InputGrads(float[] dInput, float[] dH0, float[] dC0) {}

    final RecurrentConfig cfg;
    final Params params;
    final Cell cell;
    final int hidden;
    final int gw;                 // gate width G·H
    final int dirs;
    final int layers;
    final DirectionBuffers[][] dir;   // [layer][direction]
    final Step step = new Step();
    private final float[] rowBias;        // (G·H) b_ih + the folded part of b_hh
    private boolean frozen;               // weights promised constant: their transposed copies are made once

    // Shape of the last forward.
    int steps;
    int batch;
    boolean tokenInput;
    int[] tokens;
    boolean[][] active;           // [t][b], null when every sequence runs all T steps
    private boolean haveForward;

    // Forward buffers, grown on demand (capacity in T·B rows).
    int rowCap;
    int batchCap;
    float[][] layerIn;            // [l]: input of layer l, time-major (T·B, in_l); [0] may alias the caller's
    private float[][] layerOut;           // [l]: output of layer l before dropout (T·B, D·H)
    float[][] dropScale;          // [l]: dropout scale per output of layer l (l < L-1), or null
    private float[][] dropped;            // [l]: layer l's output after dropout (the input of layer l+1)
    private float[] inputBf;              // time-major copy of a batch_first input
    private float[] outputBf;             // batch_first copy of the output
    float[] hN = new float[0];
    private float[] cN;

    private RecurrentBackward backward;   // made by the first backward
    float[] dH0;                          // (L·D, B, H), sized with h_n
    float[] dC0;

    public Recurrent(RecurrentConfig cfg, Params params, String prefix) {
        this.cfg = cfg;
        this.params = params;
        this.cell = cfg.cell().newCell();
        this.hidden = cfg.hiddenSize();
        this.gw = cfg.cell().gates * hidden;
        this.rowBias = new float[gw];
        this.dirs = cfg.directions();
        this.layers = cfg.numLayers();
        this.dir = new DirectionBuffers[layers][dirs];
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < dirs; d++) {
                String s = RecurrentConfig.suffix(l, d);
                dir[l][d] = new DirectionBuffers(expect(params.layout, prefix + "weight_ih" + s, gw, cfg.layerInputSize(l)),
                        expect(params.layout, prefix + "weight_hh" + s, gw, hidden),
                        cfg.bias() ? expect(params.layout, prefix + "bias_ih" + s, gw) : null,
                        cfg.bias() ? expect(params.layout, prefix + "bias_hh" + s, gw) : null);
            }
        }
        step.hidden = hidden;
        step.w = params.values;
    }

    private static ParamLayout.TensorView expect(ParamLayout layout, String name, int... shape) {
        ParamLayout.TensorView t = layout.get(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    public RecurrentConfig config() {
        return cfg;
    }

    /**
     * A promise that the weights will not change any more (scoring, evaluation, generation): the transposed
     * copies every forward makes of them are then made once and kept.
     */
    public void freezeWeights() {
        frozen = true;
        for (DirectionBuffers[] row : dir) {
            for (DirectionBuffers b : row) {
                b.invalidate();
            }
        }
    }

    /** Forward over dense input; see the class comment for shapes. {@code dropoutRng} null means evaluation. */
    public Output forward(float[] input, int seqLen, int batchSize, int[] lengths, float[] h0, float[] c0,
                          SplittableRandom dropoutRng) {
        checkShape(seqLen, batchSize, lengths, h0, c0);
        // A longer buffer is fine (an embedding's output reused across batch sizes): only the first
        // seq_len×batch×input_size values are read.
        long expected = (long) seqLen * batchSize * cfg.inputSize();
        if (input == null || input.length < expected) {
            throw new IllegalArgumentException("input has " + (input == null ? 0 : input.length)
                    + " values; expected at least seq_len×batch×input_size = " + seqLen + "×" + batchSize + "×"
                    + cfg.inputSize() + " = " + expected);
        }
        prepare(seqLen, batchSize, lengths);
        tokenInput = false;
        if (cfg.batchFirst()) {
            inputBf = grow(inputBf, (int) expected);
            swapBatchTime(input, inputBf, batchSize, seqLen, cfg.inputSize());
            layerIn[0] = inputBf;
        } else {
            layerIn[0] = input;
        }
        return run(h0, c0, dropoutRng);
    }

    /**
     * Forward over token ids as one-hot input (input_size = vocabulary size): the input projection of a
     * token is a column of weight_ih_l0, gathered rather than multiplied.
     */
    public Output forwardTokens(int[] tokenIds, int seqLen, int batchSize, int[] lengths, float[] h0, float[] c0,
                                SplittableRandom dropoutRng) {
        checkShape(seqLen, batchSize, lengths, h0, c0);
        if (tokenIds == null || tokenIds.length < (long) seqLen * batchSize) {   // a longer, reused buffer is fine
            throw new IllegalArgumentException("token input has " + (tokenIds == null ? 0 : tokenIds.length)
                    + " ids; expected seq_len×batch = " + seqLen * batchSize);
        }
        prepare(seqLen, batchSize, lengths);
        tokenInput = true;
        if (tokens == null || tokens.length < seqLen * batchSize) {
            tokens = new int[seqLen * batchSize];
        }
        int vocab = cfg.inputSize();
        for (int t = 0; t < seqLen; t++) {
            for (int b = 0; b < batchSize; b++) {
                int id = cfg.batchFirst() ? tokenIds[b * seqLen + t] : tokenIds[t * batchSize + b];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + vocab + ")");
                }
                tokens[t * batchSize + b] = id;
            }
        }
        layerIn[0] = null;
        return run(h0, c0, dropoutRng);
    }

    private void checkShape(int seqLen, int batchSize, int[] lengths, float[] h0, float[] c0) {
        if (seqLen <= 0 || batchSize <= 0) {
            throw new IllegalArgumentException("seq_len and batch must be positive, got " + seqLen + " and " + batchSize);
        }
        if (lengths != null) {
            if (lengths.length != batchSize) {
                throw new IllegalArgumentException("lengths has " + lengths.length + " entries for a batch of " + batchSize);
            }
            for (int len : lengths) {
                if (len < 0 || len > seqLen) {
                    throw new IllegalArgumentException("sequence length " + len + " outside [0, seq_len=" + seqLen + "]");
                }
            }
        }
        long stateSize = (long) layers * dirs * batchSize * hidden;
        checkedSize(stateSize);
        if (h0 != null && h0.length != stateSize) {
            throw new IllegalArgumentException("h0 has " + h0.length + " values; expected (layers·directions, batch, hidden) = "
                    + layers * dirs + "×" + batchSize + "×" + hidden);
        }
        if (c0 != null && (!cfg.cell().hasCellState() || c0.length != stateSize)) {
            throw new IllegalArgumentException(cfg.cell().hasCellState()
                    ? "c0 has " + c0.length + " values; expected " + stateSize
                    : "c0 given, but only an LSTM has a cell state");
        }
    }

    private void prepare(int seqLen, int batchSize, int[] lengths) {
        steps = seqLen;
        batch = batchSize;
        int rows = checkedSize((long) seqLen * batchSize);
        if (rows > rowCap || batchSize > batchCap) {
            allocate(Math.max(rows, rowCap), Math.max(batchSize, batchCap));
        }
        active = null;
        if (lengths != null) {
            boolean all = true;
            for (int len : lengths) {
                all &= len == seqLen;
            }
            if (!all) {
                active = new boolean[seqLen][batchSize];
                for (int t = 0; t < seqLen; t++) {
                    for (int b = 0; b < batchSize; b++) {
                        active[t][b] = t < lengths[b];
                    }
                }
            }
        }
        int stateSize = layers * dirs * batchSize * hidden;
        if (hN.length != stateSize) {
            hN = new float[stateSize];
            dH0 = new float[stateSize];
            if (cfg.cell().hasCellState()) {
                cN = new float[stateSize];
                dC0 = new float[stateSize];
            }
        }
    }

    private void allocate(int rows, int batchSize) {
        rowCap = rows;
        batchCap = batchSize;
        layerIn = new float[layers][];
        dropped = new float[layers][];
        layerOut = new float[layers][];
        dropScale = new float[layers][];
        int out = cfg.outputSize();
        checkedSize((long) rows * Math.max(gw, out) + (long) batchSize * hidden);
        step.scratch = new float[batchSize * gw];
        for (int l = 0; l < layers; l++) {
            layerOut[l] = new float[rows * out];
            for (int d = 0; d < dirs; d++) {
                dir[l][d].allocate(rows, batchSize, gw, hidden, cell.savedCount(), cfg.cell().hasCellState());
            }
        }
    }

    /**
     * Floats a forward keeps per (step, sequence) row: every layer's gates, saved quantities, states and output
     * (and a batch_first copy). For sizing batches by memory.
     */
    public long forwardFloatsPerRow() {
        long perDirection = gw + (long) cell.savedCount() * hidden + hidden + (cfg.cell().hasCellState() ? hidden : 0);
        return layers * ((long) dirs * perDirection + cfg.outputSize()) + (cfg.batchFirst() ? cfg.outputSize() : 0);
    }

    private Output run(float[] h0, float[] c0, SplittableRandom dropoutRng) {
        int rows = steps * batch;
        int out = cfg.outputSize();
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < dirs; d++) {
                inputProjection(l, d, rows);
                recur(l, d, h0, c0);
            }
            if (l + 1 < layers) {
                if (dropoutRng != null && cfg.dropout() > 0) {
                    dropScale[l] = grow(dropScale[l], rows * out);
                    dropped[l] = grow(dropped[l], rows * out);
                    Dropout.apply(cfg.dropout(), dropoutRng, layerOut[l], dropped[l], dropScale[l], rows * out);
                    layerIn[l + 1] = dropped[l];
                } else {
                    dropScale[l] = null;
                    layerIn[l + 1] = layerOut[l];
                }
            }
        }
        haveForward = true;
        float[] top = layerOut[layers - 1];
        if (cfg.batchFirst()) {
            outputBf = grow(outputBf, rows * out);
            swapBatchTime(top, outputBf, steps, batch, out);
            top = outputBf;
        }
        return new Output(top, hN, cN);
    }

    /**
     * gates = x · W_ihᵀ + b_ih (+ b_hh where the cell adds it straight to the gates) for all T·B rows at once;
     * a gather of weight_ih columns for token input.
     */
    private void inputProjection(int l, int d, int rows) {
        DirectionBuffers b = dir[l][d];
        float[] w = params.values;
        computeRowBias(b);
        int in = cfg.layerInputSize(l);
        if (l == 0 && tokenInput) {
            if (b.tokens == null) {
                b.tokens = new OneHotProjection(in, gw);
            }
            b.tokens.forward(tokens, rows, w, b.wIh.offset(), rowBias, frozen, b.gates);
        } else {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(rowBias, 0, b.gates, r * gw, gw);
            }
            Blas.gemm(false, true, rows, gw, in, 1f, layerIn[l], 0, in, w, b.wIh.offset(), in, 1f, b.gates, 0, gw);
        }
    }

    /** b_ih plus the leading rows of b_hh that the cell adds to the gates once (zeros without bias). */
    private void computeRowBias(DirectionBuffers b) {
        float[] w = params.values;
        if (cfg.bias()) {
            int bi = b.bIh.offset();
            int bh = b.bHh.offset();
            int folded = cell.foldedRecurrentBiasRows(hidden);
            for (int j = 0; j < gw; j++) {
                rowBias[j] = w[bi + j] + (j < folded ? w[bh + j] : 0f);
            }
        } else {
            Arrays.fill(rowBias, 0f);
        }
    }

    /** Points {@link #step} at time step t of direction d in buffers b (states, gates, saved quantities). */
    void at(DirectionBuffers b, int d, int t) {
        int bh = batch * hidden;
        step.batch = batch;
        step.gates = b.gates;
        step.gatesOff = t * batch * gw;
        step.saved = b.saved;
        step.savedOff = t * bh;
        step.h = b.h;
        step.c = b.c;
        step.prev = (d == 0 ? t : t + 1) * bh;
        step.out = (d == 0 ? t + 1 : t) * bh;
    }

    /** The time loop of one layer and direction. */
    private void recur(int l, int d, float[] h0, float[] c0) {
        DirectionBuffers b = dir[l][d];
        int bh = batch * hidden;
        int first = d == 0 ? 0 : steps * bh;   // slot of the initial state
        int stateOff = (l * dirs + d) * bh;
        initialState(b.h, first, h0, stateOff, bh);
        if (b.c != null) {
            initialState(b.c, first, c0, stateOff, bh);
        }
        step.whhT = b.whhT(params.values, gw, hidden, frozen);
        step.bhh = cfg.bias() ? b.bHh.offset() : -1;
        float[] out = layerOut[l];
        int outW = cfg.outputSize();
        for (int k = 0; k < steps; k++) {
            int t = d == 0 ? k : steps - 1 - k;
            at(b, d, t);
            cell.addRecurrent(step);
            cell.forward(step);
            boolean[] act = active == null ? null : active[t];
            for (int r = 0; r < batch; r++) {
                int o = (t * batch + r) * outW + d * hidden;
                if (act == null || act[r]) {
                    System.arraycopy(b.h, step.out + r * hidden, out, o, hidden);
                } else {
                    // Past its length: the state is carried unchanged and the output is 0.
                    System.arraycopy(b.h, step.prev + r * hidden, b.h, step.out + r * hidden, hidden);
                    if (b.c != null) {
                        System.arraycopy(b.c, step.prev + r * hidden, b.c, step.out + r * hidden, hidden);
                    }
                    Arrays.fill(out, o, o + hidden, 0f);
                }
            }
        }
        int last = d == 0 ? steps * bh : 0;
        System.arraycopy(b.h, last, hN, stateOff, bh);
        if (b.c != null) {
            System.arraycopy(b.c, last, cN, stateOff, bh);
        }
    }

    static void initialState(float[] states, int slot, float[] given, int givenOff, int n) {
        if (given != null) {
            System.arraycopy(given, givenOff, states, slot, n);
        } else {
            Arrays.fill(states, slot, slot + n, 0f);
        }
    }

    /**
     * Backward through time of the last forward: adds every parameter's gradient into {@code params.grads}
     * and returns the gradients of the inputs. {@code dOutput} is shaped like the output; {@code dHn},
     * {@code dCn} like h_n, c_n; any of them may be null for zero. See {@link RecurrentBackward}.
     */
    public InputGrads backward(float[] dOutput, float[] dHn, float[] dCn) {
        if (!haveForward) {
            throw new IllegalStateException("backward needs a forward first");
        }
        if (backward == null) {
            backward = new RecurrentBackward(this);   // scoring never gets here: no backward buffers
        }
        return backward.run(dOutput, dHn, dCn);
    }
}
