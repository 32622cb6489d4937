package dev.seqspark.cli;

/** A problem with the user's input or arguments: reported as one line, exit code 2. */
public class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }

    /** A local output directory that exists is replaced only with --overwrite (Spark's writers check remote ones). */
    static void refuseExistingOutput(String output, boolean overwrite) {
        if (!overwrite && !output.contains("://") && java.nio.file.Files.exists(java.nio.file.Path.of(output))) {
            throw new UserError("output directory " + output + " exists; add --overwrite to replace it");
        }
    }
}
