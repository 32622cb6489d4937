package dev.seqspark.cli;

import dev.seqspark.spark.JobProgress;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Progress lines on stderr at a steady pace while a Spark job runs (stdout stays for the command's result):
 * <pre>score: 1,204,224 records  38,535,168 tokens  41% done  152,345 tokens/s  ETA 3:12</pre>
 * Records and tokens count finished tasks and, from executor heartbeats, running ones; the fraction done is
 * of the input's bytes read (or of the tasks finished, when further), the ETA extrapolates it.
 */
final class ProgressReporter implements AutoCloseable {
    private final ScheduledExecutorService timer;

    private ProgressReporter(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /** Every {@code seconds} (none when 0), a line starting with {@code command}; stopped by {@link #close()}. */
    static ProgressReporter every(double seconds, String command, JobProgress progress) {
        return every(seconds, command, "records", "tokens", progress);
    }

    /** As above, naming what the records and tokens are ("prefixes", "tokens generated"). */
    static ProgressReporter every(double seconds, String command, String records, String tokens, JobProgress progress) {
        if (!(seconds > 0)) {
            return new ProgressReporter(null);
        }
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "seqspark-progress");
            th.setDaemon(true);
            return th;
        });
        long period = Math.max(1, Math.round(seconds * 1000));
        t.scheduleAtFixedRate(() -> {
            JobProgress.Snapshot s = progress.snapshot();
            if (s.started()) {
                System.err.println(line(command, records, tokens, s));
            }
        }, period, period, TimeUnit.MILLISECONDS);
        return new ProgressReporter(t);
    }

    static String line(String command, JobProgress.Snapshot s) {
        return line(command, "records", "tokens", s);
    }

    static String line(String command, String records, String tokens, JobProgress.Snapshot s) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s: %,d %s  %,d %s", command,
                s.records(), records, s.tokens(), tokens));
        double f = s.fraction();
        if (!Double.isNaN(f)) {
            sb.append(String.format(Locale.ROOT, "  %d%% done", (long) Math.floor(100 * f)));
        }
        if (s.seconds() > 0) {
            sb.append(String.format(Locale.ROOT, "  %,.0f tokens/s", s.tokens() / s.seconds()));
        }
        if (!Double.isNaN(f) && f > 0 && f < 1) {
            sb.append("  ETA ").append(duration(s.seconds() * (1 - f) / f));
        }
        return sb.toString();
    }

    /** m:ss, or h:mm:ss from an hour on. */
    static String duration(double seconds) {
        long t = Math.round(Math.max(0, seconds));
        return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                : String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            try {
                timer.awaitTermination(5, TimeUnit.SECONDS);   // no line after the command's own last one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
