package dev.seqspark.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    private static List<String> stream(TokenizerConfig cfg, String... lines) {
        return new Tokenizer(cfg).streamTokens(List.of(lines));
    }

    @Test
    void rawCharsEndEveryLineWithNewline() {
        assertEquals(List.of("a", "b", "\n", "\n", "C", "\n"), stream(TokenizerConfig.chars(), "ab", "", "C"));
    }

    @Test
    void charsAreCodePoints() {
        assertEquals(List.of("é", "😀", "x", "\n"), stream(TokenizerConfig.chars(), "é😀x"));
    }

    @Test
    void lettersOnlyIsD2lCleaningJoinedBySpaces() {
        TokenizerConfig cfg = new TokenizerConfig(TokenizerConfig.Level.CHAR, true, true);
        String joined = String.join("", stream(cfg, "  Hello, World! ", "", "1984", "It's -- élan"));
        assertEquals("hello world it s lan", joined);   // é is not an ASCII letter: d2l's [^A-Za-z]+
        assertEquals("hello world", Tokenizer.lettersOnly("  hello,   world!!"));
    }

    @Test
    void lettersOnlyLinesAreIndependent() {
        // Lines may arrive in pieces (Spark partitions): each non-empty line ends with a space, the stream drops the last.
        Tokenizer t = new Tokenizer(new TokenizerConfig(TokenizerConfig.Level.CHAR, false, true));
        StringBuilder sb = new StringBuilder();
        t.lineTokens("!!", sb::append);
        assertEquals("", sb.toString());
        t.lineTokens("ab", sb::append);
        t.lineTokens("cd", sb::append);
        assertEquals("ab cd ", sb.toString());
        assertEquals(true, t.dropsLastToken());
        assertEquals(List.of("a", "b", " ", "c", "d"), t.streamTokens(List.of("!!", "ab", "", "cd", "42")));
    }

    @Test
    void words() {
        TokenizerConfig raw = new TokenizerConfig(TokenizerConfig.Level.WORD, false, false);
        assertEquals(List.of("The", "time,", "machine", "\n", "x", "\n"), stream(raw, " The\ttime,  machine ", "x"));
        TokenizerConfig clean = new TokenizerConfig(TokenizerConfig.Level.WORD, true, true);
        assertEquals(List.of("the", "time", "machine", "x"), stream(clean, " The\ttime,  machine ", "", "x"));
        assertEquals(List.of("a", "b"), new Tokenizer(raw).textTokens("a  b"));
    }

    @Test
    void badLevel() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizerConfig.Level.fromId("byte"));
        assertEquals("unknown tokenizer level 'byte'; expected char or word", e.getMessage());
    }
}
