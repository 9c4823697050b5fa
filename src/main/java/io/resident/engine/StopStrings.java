package io.resident.engine;

import java.util.List;

/**
 * Finds a request's stop strings in its reply as the text streams in. Text is released as soon as it cannot be
 * the start of a stop string; the stop string itself and whatever follows it are never released.
 */
final class StopStrings {

    private final List<String> stops;
    private final int longestStop;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.stops = stops;
        this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Adds decoded text; returns the text now safe to show (the text before the stop string once one appears). */
    String push(String text) {
        if (stops.isEmpty() || stopped) {
            return stopped ? "" : text;
        }
        held.append(text);
        int stopAt = firstStop();
        if (stopAt >= 0) {
            stopped = true;
            String before = held.substring(0, stopAt);
            held.setLength(0);
            return before;
        }
        int release = held.length() - longestStopPrefixAtEnd();
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

    private int firstStop() {
        int first = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    private int longestStopPrefixAtEnd() {
        for (int length = Math.min(held.length(), longestStop - 1); length > 0; length--) {
            String tail = held.substring(held.length() - length);
            for (String stop : stops) {
                if (stop.length() > length && stop.startsWith(tail)) {
                    return length;
                }
            }
        }
        return 0;
    }
}
