package dev.seqspark.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a book into passages of a few whole sentences, deterministically (the authorship task's data):
 * <ol>
 *   <li>paragraphs: maximal runs of non-blank lines, each line trimmed, joined by single spaces, every run of
 *       whitespace made one space;</li>
 *   <li>paragraphs without a lower-case letter are dropped (titles, chapter headings, "P R E F A C E");</li>
 *   <li>sentences: a paragraph is split after every {@code .}, {@code !} or {@code ?} that is followed, after any
 *       closing quotes or brackets ({@code " ' ) ] ’ ”}), by a space (so "Mr. Quilp" splits too: the cut is
 *       approximate, and only ever between two words);</li>
 *   <li>passages: the book's sentences in order, taken greedily until a passage has at least {@code minChars}
 *       characters, joined by single spaces; a last group shorter than that is dropped. Passages may span
 *       paragraphs; no two share a sentence.</li>
 * </ol>
 * {@link #split} then holds out the last fraction of each book's passages, by position: no held-out passage
 * shares a sentence with a training one, and every held-out passage comes after the training text.
 */
public final class Passages {
    private Passages() {}

    /** The paragraphs of a book's lines (rules 1 and 2). */
    public static List<String> paragraphs(List<String> lines) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : lines) {
            String t = line.strip();
            if (t.isEmpty()) {
                flush(cur, out);
                continue;
            }
            if (cur.length() > 0) {
                cur.append(' ');
            }
            cur.append(t);
        }
        flush(cur, out);
        return out;
    }

    private static void flush(StringBuilder cur, List<String> out) {
        if (cur.length() == 0) {
            return;
        }
        String p = cur.toString().replaceAll("\\s+", " ");
        cur.setLength(0);
        if (p.chars().anyMatch(Character::isLowerCase)) {
            out.add(p);
        }
    }

    /** The sentences of one paragraph (rule 3). */
    public static List<String> sentences(String paragraph) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int n = paragraph.length();
        for (int i = 0; i < n; i++) {
            char c = paragraph.charAt(i);
            if (c != '.' && c != '!' && c != '?') {
                continue;
            }
            int j = i + 1;
            while (j < n && "\"')]\u2019\u201d".indexOf(paragraph.charAt(j)) >= 0) {
                j++;
            }
            if (j < n && paragraph.charAt(j) == ' ') {
                add(out, paragraph.substring(start, j));
                start = j + 1;
                i = j;
            }
        }
        add(out, paragraph.substring(Math.min(start, n)));
        return out;
    }

    private static void add(List<String> out, String s) {
        String t = s.strip();
        if (!t.isEmpty()) {
            out.add(t);
        }
    }

    /** A book's passages (rules 1–4). */
    public static List<String> of(List<String> lines, int minChars) {
        if (minChars <= 0) {
            throw new IllegalArgumentException("a passage needs a positive minimum length, got " + minChars);
        }
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String p : paragraphs(lines)) {
            for (String s : sentences(p)) {
                if (cur.length() > 0) {
                    cur.append(' ');
                }
                cur.append(s);
                if (cur.length() >= minChars) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
            }
        }
        return out;
    }

    /** The first ⌊(1 − heldOut)·n⌋ passages, and the rest: the held-out ones come last in the book. */
    public static List<List<String>> split(List<String> passages, double heldOut) {
        if (!(heldOut >= 0 && heldOut < 1)) {
            throw new IllegalArgumentException("the held-out fraction must be in [0, 1), got " + heldOut);
        }
        int cut = (int) Math.floor((1 - heldOut) * passages.size());
        return List.of(passages.subList(0, cut), passages.subList(cut, passages.size()));
    }
}
