package dev.seqspark.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The measuring loop every benchmark shares: untimed iterations for the warm-up (JIT compilation), then whole
 * iterations until the time is up, on the calling thread, with wall and CPU time, and a progress call about
 * every two seconds.
 */
public final class TimedLoop {
    /** One iteration of the measured work; returns the units (tokens, calls) it did. */
    @FunctionalInterface
    public interface Work {
        long once();
    }

    /** Where a progress line goes: seconds measured so far and units done in them. */
    @FunctionalInterface
    public interface Progress {
        void at(double seconds, long units);
    }

    /** Units done, wall seconds and this thread's CPU seconds of the measured part. */
    public record Timing(long units, double seconds, double cpuSeconds) {}

    private TimedLoop() {}

    public static Timing run(double seconds, double warmupSeconds, Work work, Progress progress) {
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        while (System.nanoTime() < warmEnd) {
            work.once();
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long t0 = System.nanoTime();
        long c0 = mx.getCurrentThreadCpuTime();
        long end = t0 + (long) (seconds * 1e9);
        long nextReport = t0 + 2_000_000_000L;
        long units = 0;
        long now;
        do {
            units += work.once();
            now = System.nanoTime();
            if (progress != null && now >= nextReport) {
                progress.at((now - t0) / 1e9, units);
                nextReport += 2_000_000_000L;
            }
        } while (now < end);
        return new Timing(units, (now - t0) / 1e9, (mx.getCurrentThreadCpuTime() - c0) / 1e9);
    }
}
