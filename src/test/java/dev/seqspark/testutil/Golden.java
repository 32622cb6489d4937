package dev.seqspark.testutil;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.GZIPInputStream;

/**
 * Golden data made by PyTorch (tools/golden/make_golden.py), and the tolerance every number is held to:
 * |actual − expected| ≤ 1e-6, or ≤ 1e-5·|expected|.
 */
public final class Golden {
    public static final double REL_TOL = 1e-5;
    public static final double ABS_TOL = 1e-6;
    private static JsonNode nn;

    private Golden() {}

    /** src/test/resources/golden/nn_golden.json.gz, parsed once per JVM. */
    public static synchronized JsonNode nn() {
        if (nn == null) {
            nn = load("/golden/nn_golden.json.gz");
        }
        return nn;
    }

    public static JsonNode load(String resource) {
        try (InputStream raw = Golden.class.getResourceAsStream(resource)) {
            if (raw == null) {
                throw new IllegalStateException("missing test resource " + resource + "; run tools/golden/make_golden.py");
            }
            InputStream in = resource.endsWith(".gz") ? new GZIPInputStream(raw) : raw;
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file system path of a test resource under /golden (e.g. a committed model directory). */
    public static java.nio.file.Path resource(String name) {
        try {
            return java.nio.file.Path.of(Golden.class.getResource("/golden/" + name).toURI());
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource /golden/" + name, e);
        }
    }

    /** A tensor's flat row-major data, or null for JSON null / missing. */
    public static float[] data(JsonNode tensor) {
        if (tensor == null || tensor.isNull()) {
            return null;
        }
        JsonNode d = tensor.has("data") ? tensor.get("data") : tensor;
        float[] out = new float[d.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) d.get(i).asDouble();
        }
        return out;
    }

    public static int[] ints(JsonNode array) {
        if (array == null || array.isNull()) {
            return null;
        }
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** Every element within tolerance; the message names the case, the tensor and the worst element. */
    public static void assertClose(String what, float[] expected, float[] actual) {
        assertClose(what, expected, actual, REL_TOL, ABS_TOL);
    }

    public static void assertClose(String what, float[] expected, float[] actual, double rel, double abs) {
        if (expected == null) {
            fail(what + ": no expected values");
        }
        if (actual == null || actual.length < expected.length) {
            fail(what + ": expected " + expected.length + " values, got " + (actual == null ? "null" : actual.length));
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]);
            double allowed = Math.max(abs, rel * Math.abs(expected[i]));
            if (!(err <= allowed) && (worst < 0 || err / allowed > worstExcess)) {
                worst = i;
                worstExcess = err / allowed;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s: element %d of %d is %s, expected %s (error %.3g)", what, worst, expected.length,
                    actual[worst], expected[worst], Math.abs((double) actual[worst] - expected[worst])));
        }
    }
}
