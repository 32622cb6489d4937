package dev.seqspark.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The authorship data's cutting rule, rule by rule, and on the bundled book. */
class PassagesTest {
    @Test
    void paragraphsSentencesAndPassages() {
        List<String> lines = List.of("   CHAPTER I", "", "\"Tom!\" No answer.  The old", "lady   pulled her spectacles down.",
                "", "P R E F A C E", "", "She said, \"Mr. Smith is here.\" Then she left! Why? Because.", "");
        assertEquals(List.of("\"Tom!\" No answer. The old lady pulled her spectacles down.",
                "She said, \"Mr. Smith is here.\" Then she left! Why? Because."), Passages.paragraphs(lines),
                "headings without lower case dropped, lines joined, spaces collapsed");
        assertEquals(List.of("\"Tom!\"", "No answer.", "The old lady pulled her spectacles down."),
                Passages.sentences("\"Tom!\" No answer. The old lady pulled her spectacles down."));
        assertEquals(List.of("She said, \"Mr.", "Smith is here.\"", "Then she left!", "Why?", "Because."),
                Passages.sentences("She said, \"Mr. Smith is here.\" Then she left! Why? Because."), "approximate, between words");
        List<String> p = Passages.of(lines, 30);
        assertEquals(List.of("\"Tom!\" No answer. The old lady pulled her spectacles down.",
                "She said, \"Mr. Smith is here.\""), p, "at least 30 characters (this one has 31); the 28-character rest dropped");
        List<List<String>> split = Passages.split(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"), 0.1);
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i"), split.get(0));
        assertEquals(List.of("j", "k"), split.get(1), "the last passages are held out");
        assertThrows(IllegalArgumentException.class, () -> Passages.of(lines, 0));
    }

    @Test
    void theBundledBookCutsIntoDisjointPassages() throws Exception {
        List<String> book = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8);
        List<String> p = Passages.of(book, 250);
        assertEquals(1187, p.size());
        Set<String> seen = new HashSet<>();
        for (String s : p) {
            assertTrue(s.length() >= 250 && !s.contains("\n") && !s.contains("\t") && !s.contains("  "), s);
            assertTrue(seen.add(s), "no passage twice: " + s);
        }
        assertEquals(p, Passages.of(book, 250), "deterministic");
    }
}
