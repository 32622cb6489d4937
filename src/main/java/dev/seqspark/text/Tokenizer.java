package dev.seqspark.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Turns lines of text into tokens, by a {@link TokenizerConfig}. The token stream of a corpus is:
 * <ul>
 *   <li>raw (not letters-only): every line's tokens followed by the token {@code "\n"};</li>
 *   <li>letters-only: the cleaned non-empty lines joined by single spaces (for char level the space is a
 *       token; for word level it only separates words).</li>
 * </ul>
 * Lines are processed one at a time and independently, so a corpus split anywhere (Spark partitions)
 * tokenizes the same: in letters-only char mode every non-empty line is followed by a space, and the
 * stream as a whole drops its last token, that trailing space ({@link #dropsLastToken}).
 */
public final class Tokenizer implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public static final String NEWLINE = "\n";
    private final TokenizerConfig config;

    public Tokenizer(TokenizerConfig config) {
        this.config = config;
    }

    public TokenizerConfig config() {
        return config;
    }

    /** d2l's cleaning: runs of non-ASCII-letters → one space, stripped (then lower-cased if configured). */
    public static String lettersOnly(String line) {
        StringBuilder sb = new StringBuilder(line.length());
        boolean gap = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
                if (gap && sb.length() > 0) {
                    sb.append(' ');
                }
                gap = false;
                sb.append(c);
            } else {
                gap = true;
            }
        }
        return sb.toString();
    }

    /** The line after lower-casing and cleaning as configured (before splitting into tokens). */
    public String normalize(String line) {
        String s = config.lowercase() ? line.toLowerCase(Locale.ROOT) : line;
        return config.lettersOnly() ? lettersOnly(s) : s;
    }

    /** The tokens one line contributes to the stream (see the class comment for the final space). */
    public void lineTokens(String line, Consumer<String> out) {
        String s = normalize(line);
        if (config.lettersOnly()) {
            if (s.isEmpty()) {
                return;
            }
            if (config.level() == TokenizerConfig.Level.CHAR) {
                codePoints(s, out);
                out.accept(" ");
            } else {
                words(s, out);
            }
        } else {
            if (config.level() == TokenizerConfig.Level.CHAR) {
                codePoints(s, out);
            } else {
                words(s, out);
            }
            out.accept(NEWLINE);
        }
    }

    /**
     * True when the stream is its lines' tokens minus the very last one (a space), which is the case in
     * letters-only char mode whenever any line has letters.
     */
    public boolean dropsLastToken() {
        return config.lettersOnly() && config.level() == TokenizerConfig.Level.CHAR;
    }

    /** The tokens of one text as a whole (a record to score): no trailing newline token, no joining. */
    public List<String> textTokens(String text) {
        List<String> out = new ArrayList<>();
        String s = normalize(text);
        if (config.level() == TokenizerConfig.Level.CHAR) {
            codePoints(s, out::add);
        } else {
            words(s, out::add);
        }
        return out;
    }

    /** The token stream of a list of lines (a whole corpus in memory). */
    public List<String> streamTokens(Iterable<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            lineTokens(line, out::add);
        }
        if (dropsLastToken() && !out.isEmpty()) {
            out.remove(out.size() - 1);
        }
        return out;
    }

    private static void codePoints(String s, Consumer<String> out) {
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int n = Character.charCount(cp);
            out.accept(cp < 128 ? ASCII[cp] : s.substring(i, i + n));
            i += n;
        }
    }

    private static void words(String s, Consumer<String> out) {
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.accept(s.substring(start, i));
            }
        }
    }

    private static final String[] ASCII = new String[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII[c] = String.valueOf((char) c);
        }
    }
}
