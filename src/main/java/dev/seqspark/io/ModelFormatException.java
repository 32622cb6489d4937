package dev.seqspark.io;

/** A model directory or file that is missing, malformed or inconsistent; the message names the file and the problem. */
public class ModelFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
