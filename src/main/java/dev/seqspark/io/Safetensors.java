package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seqspark.nn.ParamLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
 * {@code {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}},
 * then the raw little-endian data, offsets relative to its start. SeqSpark writes and reads F32 only.
 *
 * <p>Reading trusts nothing in the file: the header length is checked against the file size and a cap
 * before anything is allocated, every tensor against the expected layout (names, dtype, shape, byte count,
 * offsets inside the file, no overlaps), and the data is read into the one array the layout sizes.
 */
public final class Safetensors {
    /** Headers are small (a few hundred bytes per tensor); anything larger than this is not ours. */
    static final long MAX_HEADER = 16L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {}

    /** Writes every tensor of {@code layout} from {@code values} (in layout order, 8-byte aligned data). */
    public static void write(Path file, ParamLayout layout, float[] values, Map<String, String> metadata)
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
        head.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                if (!buf.hasRemaining()) {
                    buf.flip();
                    writeFully(ch, buf);
                    buf.clear();
                }
                buf.putFloat(v);
            }
            buf.flip();
            writeFully(ch, buf);
            ch.force(true);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads the tensors of {@code expected} (every one, nothing else) into one flat array in layout order. */
    public static float[] read(Path file, ParamLayout expected) {
        String where = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw new ModelFormatException(where + ": truncated (" + fileSize + " bytes; a safetensors file starts with an 8-byte header length)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, where);
            long n = lenBuf.flip().getLong();
            if (n <= 0 || n > fileSize - 8) {
                throw new ModelFormatException(where + ": header length " + Long.toUnsignedString(n)
                        + " does not fit in a file of " + fileSize + " bytes (truncated or not safetensors)");
            }
            if (n > MAX_HEADER) {
                throw new ModelFormatException(where + ": header length " + n + " bytes exceeds the " + MAX_HEADER + "-byte limit");
            }
            ByteBuffer headBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headBuf, 8, where);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headBuf.array(), StandardCharsets.UTF_8));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new ModelFormatException(where + ": header is not valid JSON (" + e.getOriginalMessage() + ")");
            }
            if (header == null || !header.isObject()) {
                throw new ModelFormatException(where + ": header is not a JSON object");
            }
            long dataStart = 8 + n;
            long dataLen = fileSize - dataStart;
            if (4L * expected.size() > dataLen) {   // before allocating what the config asks for
                throw new ModelFormatException(where + ": holds " + dataLen + " bytes of tensor data, but the config implies "
                        + 4L * expected.size() + " (truncated file, or a config that does not match the weights)");
            }
            float[] values = new float[expected.size()];
            List<long[]> ranges = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                if (name.equals("__metadata__")) {
                    continue;
                }
                if (!expected.contains(name)) {
                    throw new ModelFormatException(where + ": unexpected tensor '" + name + "' (the config expects "
                            + expected.tensors().stream().map(ParamLayout.TensorView::name).toList() + ")");
                }
                ParamLayout.TensorView t = expected.get(name);
                long[] range = checkEntry(where, name, e.getValue(), t, dataLen);
                ranges.add(range);
                seen.add(name);
                ByteBuffer data = ByteBuffer.allocate((int) (range[1] - range[0])).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, data, dataStart + range[0], where);
                data.flip().asFloatBuffer().get(values, t.offset(), t.size());
            }
            for (ParamLayout.TensorView t : expected.tensors()) {
                if (!seen.contains(t.name())) {
                    throw new ModelFormatException(where + ": tensor '" + t.name() + "' is missing");
                }
            }
            ranges.sort((a, b) -> Long.compare(a[0], b[0]));
            for (int i = 1; i < ranges.size(); i++) {
                if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
                    throw new ModelFormatException(where + ": tensor data ranges overlap");
                }
            }
            return values;
        } catch (IOException e) {
            throw new ModelFormatException(where + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static long[] checkEntry(String where, String name, JsonNode e, ParamLayout.TensorView t, long dataLen) {
        String what = where + ": tensor '" + name + "'";
        if (!e.isObject()) {
            throw new ModelFormatException(what + " is not described by a JSON object");
        }
        String dtype = e.path("dtype").asText("");
        if (!dtype.equals("F32")) {
            throw new ModelFormatException(what + " has dtype '" + dtype + "'; SeqSpark reads F32 only");
        }
        JsonNode shape = e.path("shape");
        int[] dims = new int[shape.size()];
        if (!shape.isArray()) {
            throw new ModelFormatException(what + " has no shape");
        }
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToInt() || d.asInt() < 0) {
                throw new ModelFormatException(what + " has an invalid shape " + shape);
            }
            dims[i] = d.asInt();
        }
        if (!Arrays.equals(dims, t.shape())) {
            throw new ModelFormatException(what + " has shape " + Arrays.toString(dims) + ", but the config implies "
                    + Arrays.toString(t.shape()));
        }
        JsonNode offs = e.path("data_offsets");
        if (!offs.isArray() || offs.size() != 2 || !offs.get(0).canConvertToLong() || !offs.get(1).canConvertToLong()) {
            throw new ModelFormatException(what + " has invalid data_offsets " + offs);
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

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, String where) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) {
                throw new ModelFormatException(where + ": truncated");
            }
            pos += r;
        }
    }
}
