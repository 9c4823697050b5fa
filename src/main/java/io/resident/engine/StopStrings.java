package io.resident.engine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a request's stop strings in its reply as the text streams in. Text is released as soon as it cannot be
 * the start of a stop string; the stop string itself and whatever follows it are never released.
 *
 * <p>The strings are matched by one Aho-Corasick automaton, built when the request is made: each new character costs
 * the same whatever the number of strings, and held text is never scanned again.
 */
final class StopStrings {

    private final Automaton automaton;
    private final StringBuilder held = new StringBuilder();
    private int state;
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.automaton = stops.isEmpty() ? null : new Automaton(stops);
    }

    /** Adds decoded text; returns the text now safe to show (the text before the stop string once one appears). */
    String push(String text) {
        if (automaton == null || stopped) {
            return stopped ? "" : text;
        }
        int base = held.length();
        held.append(text);
        int stopAt = -1;
        for (int i = 0; i < text.length(); i++) {
            int end = base + i + 1;
            if (stopAt >= 0 && end - automaton.longest > stopAt) {
                break; // no match ending here or later can start before the one found
            }
            state = automaton.next(state, text.charAt(i));
            int match = automaton.match[state];
            if (match > 0 && (stopAt < 0 || end - match < stopAt)) {
                stopAt = end - match;
            }
        }
        if (stopAt >= 0) {
            stopped = true;
            String before = held.substring(0, stopAt);
            held.setLength(0);
            return before;
        }
        // what the automaton's state spells could still grow into a stop string: the rest is safe
        int release = held.length() - automaton.depth[state];
        String out = held.substring(0, release);
        held.delete(0, release);
        return out;
    }

    boolean stopped() {
        return stopped;
    }

    /** The text still held back when the reply ends without its stop string completing. */
    String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    /** The trie of the stop strings with its failure links; state 0 is the root (nothing matched). */
    private static final class Automaton {

        private final List<Map<Character, Integer>> edges = new ArrayList<>();
        private final int[] failure;
        /** The length of the prefix each state spells. */
        private final int[] depth;
        /** The longest stop string that ends at each state (itself or through its failure links), 0 for none. */
        private final int[] match;
        private final int longest;

        Automaton(List<String> stops) {
            edges.add(new HashMap<>());
            List<Integer> depths = new ArrayList<>(List.of(0));
            List<Integer> ends = new ArrayList<>(List.of(0));
            for (String stop : stops) {
                int s = 0;
                for (int i = 0; i < stop.length(); i++) {
                    Integer child = edges.get(s).get(stop.charAt(i));
                    if (child == null) {
                        child = edges.size();
                        edges.get(s).put(stop.charAt(i), child);
                        edges.add(new HashMap<>());
                        depths.add(i + 1);
                        ends.add(0);
                    }
                    s = child;
                }
                ends.set(s, stop.length());
            }
            int states = edges.size();
            failure = new int[states];
            depth = depths.stream().mapToInt(Integer::intValue).toArray();
            match = ends.stream().mapToInt(Integer::intValue).toArray();
            longest = stops.stream().mapToInt(String::length).max().orElse(0);
            // breadth first, so that a state's failure target is complete before the state is
            int[] queue = new int[states];
            int head = 0;
            int tail = 0;
            for (int child : edges.getFirst().values()) {
                queue[tail++] = child;
            }
            while (head < tail) {
                int s = queue[head++];
                for (Map.Entry<Character, Integer> edge : edges.get(s).entrySet()) {
                    int child = edge.getValue();
                    failure[child] = next(failure[s], edge.getKey());
                    match[child] = Math.max(match[child], match[failure[child]]);
                    queue[tail++] = child;
                }
            }
        }

        int next(int s, char c) {
            while (true) {
                Integer child = edges.get(s).get(c);
                if (child != null) {
                    return child;
                }
                if (s == 0) {
                    return 0;
                }
                s = failure[s];
            }
        }
    }
}
