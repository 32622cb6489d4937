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
}
