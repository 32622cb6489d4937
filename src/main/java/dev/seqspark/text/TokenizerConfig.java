package dev.seqspark.text;

import java.util.Locale;

/**
 * How text becomes tokens.
 * <ul>
 *   <li>{@code level}: {@code char} (every Unicode code point is a token) or {@code word}
 *       (whitespace-separated).</li>
 *   <li>{@code lowercase}: lower-case the text first (Locale.ROOT).</li>
 *   <li>{@code lettersOnly}: d2l's time-machine cleaning: every run of characters other than ASCII letters
 *       A–Z, a–z becomes one space and each line is stripped; empty lines vanish.</li>
 * </ul>
 */
public record TokenizerConfig(Level level, boolean lowercase, boolean lettersOnly) implements java.io.Serializable {

    public enum Level {
        CHAR, WORD;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Level fromId(String id) {
            String key = id == null ? "" : id.trim().toLowerCase(Locale.ROOT);
            for (Level l : values()) {
                if (l.id().equals(key)) {
                    return l;
                }
            }
            throw new IllegalArgumentException("unknown tokenizer level '" + id + "'; expected char or word");
        }
    }

    public TokenizerConfig {
        if (level == null) {
            throw new IllegalArgumentException("tokenizer level must be given (char or word)");
        }
    }

    public static TokenizerConfig chars() {
        return new TokenizerConfig(Level.CHAR, false, false);
    }
}
