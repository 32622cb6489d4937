package dev.seqspark.io;

/**
 * A model directory or file that is missing, malformed or inconsistent; the message names the file and the problem.
 * The message is always one line of bounded length: whatever a hostile file makes it quote (a tensor name with
 * a newline in it, a megabyte-long string) is escaped and shortened here, so a refusal prints as one readable line.
 */
public class ModelFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    /** Longer messages keep their start (the file) and their end (the problem) around an ellipsis. */
    static final int MAX_MESSAGE = 1000;

    public ModelFormatException(String message) {
        super(oneLine(message));
    }

    public ModelFormatException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** {@code 'text'}, escaped and cut to 60 characters: for quoting a value read from an untrusted file. */
    public static String quote(String text) {
        String s = text.length() > 60 ? cut(text, 57) + "..." : text;
        return "'" + escape(s) + "'";
    }

    static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        String s = escape(message);
        if (s.length() <= MAX_MESSAGE) {
            return s;
        }
        int tail = MAX_MESSAGE / 4;
        String end = s.substring(s.length() - tail);
        if (Character.isLowSurrogate(end.charAt(0))) {
            end = end.substring(1);
        }
        return cut(s, MAX_MESSAGE - tail - 5) + " ... " + end;
    }

    /** The first {@code n} chars of {@code s}, not splitting a surrogate pair. */
    private static String cut(String s, int n) {
        return s.substring(0, Character.isHighSurrogate(s.charAt(n - 1)) ? n - 1 : n);
    }

    /** Line breaks and other control characters as escapes. */
    private static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
            if (control && sb == null) {
                sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (sb != null) {
                if (!control) {
                    sb.append(c);
                } else if (c == '\n') {
                    sb.append("\\n");
                } else if (c == '\r') {
                    sb.append("\\r");
                } else if (c == '\t') {
                    sb.append("\\t");
                } else {
                    sb.append(String.format("\\u%04x", (int) c));
                }
            }
        }
        return sb == null ? s : sb.toString();
    }
}
