package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.ParamLayout;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
 * {@code {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}},
 * then the raw little-endian data, offsets relative to its start. SeqSpark writes and reads F32 only.
 *
 * <p>Reading trusts nothing in the file: the header length is checked against the file size and a cap
 * before anything is allocated, the data size against the expected layout's (exactly 4 bytes per float), every
 * tensor against that layout (names, dtype, shape, byte count, offsets inside the file, no overlaps), and only
 * then is the one array the layout sizes allocated and filled. Files are reached through {@link Location}
 * (any Hadoop file system; the {@link Path} methods are the local disk), read by positioned reads.
 */
public final class Safetensors {
    /** Headers are small (a few hundred bytes per tensor); anything larger than this is not ours. */
    static final long MAX_HEADER = 16L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {}

    /** Writes every tensor of {@code layout} from {@code values} (in layout order, 8-byte aligned data) to a new file. */
    public static void write(Location file, ParamLayout layout, float[] values, Map<String, String> metadata)
            throws IOException {
        if (values.length != layout.size()) {
            throw new IllegalArgumentException("expected " + layout.size() + " values, got " + values.length);
        }
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        for (ParamLayout.TensorView t : layout.tensors()) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            ArrayNode shape = e.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            ArrayNode offs = e.putArray("data_offsets");
            offs.add(4L * t.offset());
            offs.add(4L * (t.offset() + t.size()));
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;          // data starts 8-byte aligned, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        try (FSDataOutputStream out = file.create()) {
            out.write(head.array(), 0, head.position());
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                if (!buf.hasRemaining()) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
                buf.putFloat(v);
            }
            out.write(buf.array(), 0, buf.position());
            Location.sync(out);
        }
    }

    /**
     * Bytes of tensor data in {@code file} (its size less the header), from the 8-byte header length and the
     * file size alone, with the header length checked; for comparing against a config before reading anything.
     */
    static long dataBytes(Location file) {
        String where = file.toString();
        try (FSDataInputStream in = file.open()) {
            long size = file.length();
            return size - 8 - headerLength(in, size, where);
        } catch (IOException e) {
            throw new ModelFormatException(where + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** The header length N, checked against the file size and {@link #MAX_HEADER}. */
    private static long headerLength(FSDataInputStream in, long fileSize, String where) throws IOException {
        if (fileSize < 8) {
            throw new ModelFormatException(where + ": truncated (" + fileSize + " bytes; a safetensors file starts with an 8-byte header length)");
        }
        byte[] lenBytes = new byte[8];
        readFully(in, 0, lenBytes, 8, where);
        long n = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n <= 0 || n > fileSize - 8) {
            throw new ModelFormatException(where + ": header length " + Long.toUnsignedString(n)
                    + " does not fit in a file of " + fileSize + " bytes (truncated or not safetensors)");
        }
        if (n > MAX_HEADER) {
            throw new ModelFormatException(where + ": header length " + n + " bytes exceeds the " + MAX_HEADER + "-byte limit");
        }
        return n;
    }

    /**
     * Reads the tensors of {@code expected} (every one, nothing else) into one flat array in layout order;
     * {@code source} names what implies the layout (e.g. "config.json") in messages. The whole header is checked
     * against the layout, and the data size against its float count, before the one array is allocated; the data
     * is then read in small chunks.
     */
    public static float[] read(Location file, ParamLayout expected, String source) {
        String where = file.toString();
        try (FSDataInputStream in = file.open()) {
            long size = file.length();
            long n = headerLength(in, size, where);
            byte[] headBytes = new byte[(int) n];
            readFully(in, 8, headBytes, (int) n, where);
            JsonNode header;
            try {
                header = ModelDir.STRICT.readTree(new String(headBytes, StandardCharsets.UTF_8));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new ModelFormatException(where + ": header is not valid JSON (" + ModelDir.jsonProblem(e) + ")");
            }
            if (header == null || !header.isObject()) {
                throw new ModelFormatException(where + ": header is not a JSON object");
            }
            long dataStart = 8 + n;
            long dataLen = size - dataStart;
            long needed = 4L * expected.size();
            if (dataLen != needed) {    // before allocating what the config asks for
                throw new ModelFormatException(where + ": holds " + dataLen + " bytes of tensor data, but " + source
                        + " implies " + needed + (dataLen < needed ? " (truncated file, or " : " (")
                        + source + " does not match the weights)");
            }
            Map<String, long[]> ranges = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : header.properties()) {
                String name = e.getKey();
                if (name.equals("__metadata__")) {
                    continue;
                }
                if (!expected.contains(name)) {
                    throw new ModelFormatException(where + ": unexpected tensor " + ModelFormatException.quote(name)
                            + " (" + source + " implies " + names(expected) + ")");
                }
                ranges.put(name, checkEntry(where, source, name, e.getValue(), expected.get(name), dataLen));
            }
            for (ParamLayout.TensorView t : expected.tensors()) {
                if (!ranges.containsKey(t.name())) {
                    throw new ModelFormatException(where + ": tensor '" + t.name() + "' is missing");
                }
            }
            List<long[]> sorted = new ArrayList<>(ranges.values());
            sorted.sort((a, b) -> Long.compare(a[0], b[0]));
            for (int i = 1; i < sorted.size(); i++) {
                if (sorted.get(i)[0] < sorted.get(i - 1)[1]) {
                    throw new ModelFormatException(where + ": tensor data ranges overlap");
                }
            }
            float[] values = allocate(expected.size(), where);
            byte[] chunk = new byte[1 << 16];
            for (ParamLayout.TensorView t : expected.tensors()) {
                long pos = dataStart + ranges.get(t.name())[0];
                int at = t.offset();
                int end = t.offset() + t.size();
                while (at < end) {
                    int floats = Math.min(end - at, chunk.length / 4);
                    readFully(in, pos, chunk, 4 * floats, where);
                    ByteBuffer.wrap(chunk, 0, 4 * floats).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values, at, floats);
                    pos += 4L * floats;
                    at += floats;
                }
            }
            return values;
        } catch (IOException e) {
            throw new ModelFormatException(where + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The weights array. A file that really is as large as its config says may still not fit in this JVM's
     * heap; that one allocation failing leaves nothing half-built, so it becomes a clear refusal, not a crash.
     */
    private static float[] allocate(int size, String where) {
        try {
            return new float[size];
        } catch (OutOfMemoryError e) {
            throw new ModelFormatException(where + ": " + size + " parameters need " + (4L * size >> 20)
                    + " MB of heap, more than this JVM has free (raise -Xmx, or spark.driver.memory)");
        }
    }

    /** The expected tensor names for a message: all of a small layout, the first few of a large one. */
    private static String names(ParamLayout expected) {
        List<String> all = expected.tensors().stream().map(ParamLayout.TensorView::name).toList();
        return all.size() <= 8 ? all.toString() : all.subList(0, 8) + " and " + (all.size() - 8) + " more";
    }

    private static long[] checkEntry(String where, String source, String name, JsonNode e, ParamLayout.TensorView t,
                                     long dataLen) {
        String what = where + ": tensor '" + name + "'";
        if (!e.isObject()) {
            throw new ModelFormatException(what + " is not described by a JSON object");
        }
        JsonNode dtype = e.path("dtype");
        if (!dtype.isTextual() || !dtype.asText().equals("F32")) {
            throw new ModelFormatException(what + (dtype.isMissingNode() ? " has no dtype" : " has dtype " + (dtype.isTextual()
                    ? ModelFormatException.quote(dtype.asText()) : ModelConfig.shown(dtype))) + "; SeqSpark reads F32 only");
        }
        JsonNode shape = e.path("shape");
        int[] want = t.shape();
        if (!shape.isArray()) {
            throw new ModelFormatException(what + (shape.isMissingNode() ? " has no shape" : " has an invalid shape "
                    + ModelConfig.shown(shape)));
        }
        int[] dims = new int[Math.min(shape.size(), want.length + 1)];   // a longer shape is wrong anyway
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 0) {
                throw new ModelFormatException(what + " has an invalid shape " + ModelConfig.shown(shape));
            }
            dims[i] = d.asInt();
        }
        if (!Arrays.equals(dims, want)) {
            throw new ModelFormatException(what + " has shape " + (shape.size() > dims.length
                    ? ModelConfig.shown(shape) : Arrays.toString(dims)) + ", but " + source + " implies "
                    + Arrays.toString(want));
        }
        JsonNode offs = e.path("data_offsets");
        if (!offs.isArray() || offs.size() != 2 || !isLong(offs.get(0)) || !isLong(offs.get(1))) {
            throw new ModelFormatException(what + " has invalid data_offsets " + ModelConfig.shown(offs));
        }
        long begin = offs.get(0).asLong();
        long end = offs.get(1).asLong();
        if (begin < 0 || end < begin || end > dataLen) {
            throw new ModelFormatException(what + " data_offsets [" + begin + ", " + end + "] lie outside the "
                    + dataLen + " data bytes (truncated file?)");
        }
        if (end - begin != 4L * t.size()) {
            throw new ModelFormatException(what + " has " + (end - begin) + " data bytes; F32 " + Arrays.toString(dims)
                    + " needs " + 4L * t.size());
        }
        return new long[] {begin, end};
    }

    private static boolean isLong(JsonNode v) {
        return v.isIntegralNumber() && v.canConvertToLong();
    }

    /** {@code length} bytes at {@code pos} into {@code b}; the file ending first is a truncated file. */
    private static void readFully(FSDataInputStream in, long pos, byte[] b, int length, String where) throws IOException {
        try {
            in.readFully(pos, b, 0, length);
        } catch (EOFException e) {
            throw new ModelFormatException(where + ": truncated");
        }
    }
}
