package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What this JVM chose, once, from its settings. Runs in both Surefire executions: the default one (the Vector API
 * kernels) and the second (-Dseqspark.vector=false: the scalar ones).
 */
class KernelChoiceTest {

    @Test
    void theKernelsAreStatedAndMatchTheProperty() {
        String p = System.getProperty(Kernels.PROPERTY, "auto");
        String chosen = Kernels.get().describe();
        assertTrue(chosen.startsWith(p.equals("false") ? "scalar" : "vector"), chosen
                + " with -D" + Kernels.PROPERTY + "=" + p + " (this JVM has --add-modules jdk.incubator.vector)");
    }
}
