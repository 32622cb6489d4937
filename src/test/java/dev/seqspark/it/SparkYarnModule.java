package dev.seqspark.it;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import org.apache.xbean.asm9.ClassReader;
import org.apache.xbean.asm9.ClassVisitor;
import org.apache.xbean.asm9.ClassWriter;
import org.apache.xbean.asm9.MethodVisitor;
import org.apache.xbean.asm9.Opcodes;

/**
 * Spark's YARN module for the integration test's stand-in Spark 4.1.0 distribution (tools/it_clusters.sh).
 *
 * <pre>
 * java -cp target/test-classes:$(cat target/classpath.txt) dev.seqspark.it.SparkYarnModule SPARK_YARN_4.2.0_JAR OUT_JAR
 * </pre>
 *
 * Spark 4.1.0's spark-yarn is not served by the Maven mirror this project builds from; 4.2.0's is. Checked against
 * Spark 4.1.0's classes, every class, method and field 4.2.0's module uses is there but two settings new in 4.2
 * ({@code package$.DRIVER_LIMIT_ACTIVE_PROCESSOR_COUNT_ENABLED()} and {@code EXECUTOR_...}, read once each, by
 * Client and ExecutorRunnable, to add {@code -XX:ActiveProcessorCount} to a container's command line). This copies
 * the jar and points those two reads at {@link Spark41Settings}, where both are off, as in 4.1. Anything else of
 * the module is left as it is; the copy fails if the two reads are not found exactly once each.
 */
public final class SparkYarnModule {
    private static final String CONFIG = "org/apache/spark/internal/config/package$";
    private static final String SETTINGS = Spark41Settings.class.getName().replace('.', '/');

    private SparkYarnModule() {}

    public static void main(String[] args) throws Exception {
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        int[] rewritten = {0};
        try (JarFile jar = new JarFile(in.toFile());
             JarOutputStream to = new JarOutputStream(Files.newOutputStream(tmp))) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                if (entry.getName().startsWith("META-INF/") && entry.getName().matches("META-INF/[^/]*\\.(SF|RSA|DSA)")) {
                    continue;
                }
                byte[] bytes;
                try (InputStream is = jar.getInputStream(entry)) {
                    bytes = is.readAllBytes();
                }
                if (entry.getName().endsWith(".class")) {
                    bytes = rewrite(bytes, rewritten);
                }
                to.putNextEntry(new JarEntry(entry.getName()));
                to.write(bytes);
                to.closeEntry();
            }
            String settings = SETTINGS + ".class";
            to.putNextEntry(new JarEntry(settings));
            try (InputStream is = SparkYarnModule.class.getClassLoader().getResourceAsStream(settings)) {
                is.transferTo(to);
            }
            to.closeEntry();
        }
        if (rewritten[0] != 2) {
            Files.deleteIfExists(tmp);
            throw new IllegalStateException(in + ": expected the two 4.2-only settings read once each, found " + rewritten[0]);
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.err.println("spark-yarn: " + out + " (" + in.getFileName() + ", its 2 reads of 4.2-only settings set to 4.1's behaviour)");
    }

    private static byte[] rewrite(byte[] bytes, int[] rewritten) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(0);
        int before = rewritten[0];
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, desc, signature, exceptions)) {
                    @Override
                    public void visitMethodInsn(int op, String owner, String method, String mdesc, boolean itf) {
                        if (owner.equals(CONFIG) && method.endsWith("_LIMIT_ACTIVE_PROCESSOR_COUNT_ENABLED")) {
                            // package$.MODULE$ is on the stack as the receiver: the static replacement takes it and ignores it.
                            rewritten[0]++;
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, SETTINGS, method,
                                    "(Ljava/lang/Object;)Lorg/apache/spark/internal/config/ConfigEntry;", false);
                        } else {
                            super.visitMethodInsn(op, owner, method, mdesc, itf);
                        }
                    }
                };
            }
        }, 0);
        return rewritten[0] == before ? bytes : writer.toByteArray();
    }
}
