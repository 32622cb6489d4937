package dev.seqspark.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.nn.ParamLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trip, and every way a file can lie: each must give a clear error, never a crash or a huge allocation. */
class SafetensorsTest {
    @TempDir
    Path tmp;

    private static ParamLayout layout() {
        ParamLayout l = new ParamLayout();
        l.add("rnn.weight_ih_l0", 6, 3);
        l.add("linear.bias", 3);
        return l;
    }

    private Path written() throws IOException {
        float[] v = new float[21];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.5f - 3;
        }
        Path f = tmp.resolve("w.safetensors");
        Safetensors.write(Location.local(f), layout(), v, Map.of("format", "pt"));
        return f;
    }

    /** A file with this JSON header and {@code dataBytes} zero bytes after it. */
    private Path forged(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = tmp.resolve("forged.safetensors");
        Files.write(f, b.array());
        return f;
    }

    private static void fails(String fragment, Path f) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Safetensors.read(Location.local(f), layout(), "the layout"));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
    }

    @Test
    void roundTripAndAlignment() throws IOException {
        Path f = written();
        float[] back = Safetensors.read(Location.local(f), layout(), "the layout");
        assertArrayEquals(new float[] {-3f, -2.5f}, Arrays.copyOf(back, 2));
        assertArrayEquals(new float[] {6.5f, 7f}, Arrays.copyOfRange(back, 19, 21));
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertTrue((8 + headerLen) % 8 == 0, "data starts 8-byte aligned");
    }

    @Test
    void truncatedFiles() throws IOException {
        byte[] all = Files.readAllBytes(written());
        Path f = tmp.resolve("t.safetensors");
        Files.write(f, Arrays.copyOf(all, all.length - 4));
        fails("truncated", f);
        Files.write(f, Arrays.copyOf(all, 100));
        fails("does not fit", f);
        Files.write(f, Arrays.copyOf(all, 5));
        fails("truncated (5 bytes", f);
    }

    @Test
    void lyingHeaders() throws IOException {
        // A header length far beyond the file: refused before any allocation.
        Path f = tmp.resolve("huge.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 3).array());
        fails("does not fit", f);
        fails("not valid JSON", forged("{\"rnn.weight_ih_l0\": ", 84));
        fails("not a JSON object", forged("[1,2]", 84));
        String ok = "\"linear.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[72,84]}";
        fails("dtype 'F16'", forged("{\"rnn.weight_ih_l0\":{\"dtype\":\"F16\",\"shape\":[6,3],\"data_offsets\":[0,36]}," + ok + "}", 84));
        fails("has shape [3, 6]", forged("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[3,6],\"data_offsets\":[0,72]}," + ok + "}", 84));
        fails("lie outside", forged("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[6,3],\"data_offsets\":[4000000000,4000000072]}," + ok + "}", 84));
        fails("needs 72", forged("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[6,3],\"data_offsets\":[0,40]}," + ok + "}", 84));
        fails("overlap", forged("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[6,3],\"data_offsets\":[0,72]},"
                + "\"linear.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[60,72]}}", 84));
        fails("'linear.bias' is missing", forged("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[6,3],\"data_offsets\":[0,72]}}", 84));
        fails("unexpected tensor 'extra'", forged("{\"extra\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 84));
        // The config asks for more weights than the file holds: refused before allocating them.
        fails("holds 4 bytes of tensor data", forged("{\"linear.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
    }
}
