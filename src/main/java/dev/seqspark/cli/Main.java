package dev.seqspark.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * The {@code seqspark} command: one entry point, one subcommand per job. Errors a user can fix (bad
 * arguments, bad input) print one line naming the problem and exit non-zero, without a stack trace
 * (set SEQSPARK_DEBUG=1 to see it).
 */
@Command(name = "seqspark", mixinStandardHelpOptions = true, version = "seqspark 0.1.0",
        description = "Distributed trainer and batch scorer for recurrent sequence models on Apache Spark.",
        subcommands = {TrainCommand.class, ScoreCommand.class, PredictCommand.class, GenerateCommand.class, PassagesCommand.class,
                BenchCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        int code = run(args);
        // A driver in a YARN ApplicationMaster (cluster deploy mode) must return: the AM reports the application's
        // final status when main ends, and an exit before that is reported as a failure (exit code 16).
        if (System.getProperty("spark.yarn.app.id") != null) {
            if (code != 0) {
                throw new IllegalStateException("seqspark " + (args.length > 0 ? args[0] : "")
                        + " failed with exit code " + code + " (its error is on the line above)");
            }
            return;
        }
        System.exit(code);
    }

    /** Runs the command line and returns its exit code (0 success, 1 failed job, 2 bad usage or input). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (System.getenv("SEQSPARK_DEBUG") != null) {
                e.printStackTrace();
            }
            cmd.getErr().println("seqspark " + cmd.getCommandName() + ": error: " + oneLine(e));
            return e instanceof IllegalArgumentException || e instanceof UserError
                    || e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException ? 2 : 1;
        });
        return cl.execute(args);
    }

    /** The message of the innermost cause that has one, on one line. */
    static String oneLine(Throwable e) {
        Throwable t = e;
        String msg = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                msg = t.getMessage();
                if (t instanceof UserError || t instanceof IllegalArgumentException) {
                    break;
                }
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return (msg == null ? e.getClass().getSimpleName() : msg).replaceAll("\\s*\\R\\s*", " ");
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.err);
    }
}
