package dev.seqspark.text;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A vocabulary as d2l builds it: {@code <unk>} at index 0, then the reserved tokens, then every token
 * with frequency ≥ min_freq by descending frequency, ties in first-occurrence order (a stable sort of a
 * Counter's items), optionally capped at a maximum size. Unknown tokens map to {@code <unk>}.
 */
public final class Vocab implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public static final String UNK = "<unk>";
    public static final int UNK_ID = 0;

    private final List<String> tokens;
    private final Map<String, Integer> index;

    /** A vocabulary with exactly these tokens; the first must be {@code <unk>} and none may repeat. */
    public Vocab(List<String> tokens) {
        if (tokens.isEmpty() || !UNK.equals(tokens.get(0))) {
            throw new IllegalArgumentException("a vocabulary must start with " + UNK);
        }
        this.tokens = List.copyOf(tokens);
        this.index = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            if (index.put(tokens.get(i), i) != null) {
                throw new IllegalArgumentException("vocabulary token '" + escape(tokens.get(i)) + "' appears twice");
            }
        }
    }

    /**
     * d2l's Vocab(tokens, min_freq, reserved_tokens) from token counts kept in first-occurrence order
     * (a LinkedHashMap, as a Counter is).
     */
    public static Vocab build(LinkedHashMap<String, Long> counts, int minFreq, List<String> reserved) {
        return build(counts, minFreq, 0, reserved);
    }

    /**
     * As {@link #build(LinkedHashMap, int, List)}, keeping at most {@code maxSize} tokens in all ({@code <unk>}
     * and the reserved ones included, as torchtext's {@code build_vocab_from_iterator(max_tokens=…)}): the
     * most frequent, ties in first-occurrence order. {@code maxSize} 0 means no limit.
     */
    public static Vocab build(LinkedHashMap<String, Long> counts, int minFreq, int maxSize, List<String> reserved) {
        if (maxSize < 0 || (maxSize > 0 && maxSize < 1 + reserved.size())) {
            throw new IllegalArgumentException("max_vocab " + maxSize + " leaves no room for " + UNK
                    + (reserved.isEmpty() ? "" : " and the reserved tokens"));
        }
        List<Map.Entry<String, Long>> byFreq = new ArrayList<>(counts.entrySet());
        byFreq.sort(Comparator.comparing((Map.Entry<String, Long> e) -> e.getValue()).reversed()); // stable
        List<String> out = new ArrayList<>();
        out.add(UNK);
        for (String r : reserved) {
            if (!out.contains(r)) {
                out.add(r);
            }
        }
        java.util.Set<String> seen = new java.util.HashSet<>(out);
        for (Map.Entry<String, Long> e : byFreq) {
            if (e.getValue() < minFreq || (maxSize > 0 && out.size() >= maxSize)) {
                break;
            }
            if (seen.add(e.getKey())) {
                out.add(e.getKey());
            }
        }
        return new Vocab(out);
    }

    /** Counts tokens in first-occurrence order. */
    public static LinkedHashMap<String, Long> count(Iterable<String> tokens) {
        LinkedHashMap<String, Long> counts = new LinkedHashMap<>();
        for (String t : tokens) {
            counts.merge(t, 1L, Long::sum);
        }
        return counts;
    }

    public int size() {
        return tokens.size();
    }

    /** The id of a token, {@code <unk>}'s (0) when it is not in the vocabulary. */
    public int id(String token) {
        Integer i = index.get(token);
        return i == null ? UNK_ID : i;
    }

    public String token(int id) {
        return tokens.get(id);
    }

    public List<String> tokens() {
        return Collections.unmodifiableList(tokens);
    }

    public int[] encode(List<String> toks) {
        int[] out = new int[toks.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = id(toks.get(i));
        }
        return out;
    }

    static String escape(String s) {
        return s.replace("\n", "\\n");
    }
}
