package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StopStringsTest {

    @Test
    void textBeforeAStopStringSplitOverPiecesIsShownAndTheStopStringIsNot() {
        StopStrings stops = new StopStrings(List.of("\n\nUser:", "END"));
        assertEquals("Hello", stops.push("Hello"));
        assertEquals(" world", stops.push(" world\n"), "the newline could start a stop string");
        assertEquals("", stops.push("\nUs"));
        assertFalse(stops.stopped());
        assertEquals("", stops.push("er: next"));
        assertTrue(stops.stopped());
        assertEquals("", stops.push("more"), "nothing after the stop");
    }

    @Test
    void aFalseStartIsReleasedOnceItCannotBeAStopString() {
        StopStrings stops = new StopStrings(List.of("END"));
        assertEquals("the ", stops.push("the EN"));
        assertEquals("ENGLISH", stops.push("GLISH"));
        assertEquals("", stops.push("E"));
        assertEquals("E", stops.flush(), "held text comes out when the reply ends");
    }

    @Test
    void theEarliestStopStringWins() {
        StopStrings stops = new StopStrings(List.of("c", "ab"));
        assertEquals("x", stops.push("xabc"));
        assertTrue(stops.stopped());
    }

    @Test
    void withoutStopStringsEveryPieceIsShownAsIs() {
        StopStrings stops = new StopStrings(List.of());
        assertEquals("a\n", stops.push("a\n"));
        assertEquals("", stops.flush());
    }

    @Test
    void theAutomatonCutsWhereTheEarliestOccurrenceStartsAndReleasesEverythingBefore() {
        Random random = new Random(7);
        for (int round = 0; round < 2_000; round++) {
            List<String> stops = new ArrayList<>();
            for (int i = 1 + random.nextInt(4); i > 0; i--) {
                stops.add(text(random, 1 + random.nextInt(4)));
            }
            String reply = text(random, random.nextInt(40));
            int first = stops.stream().mapToInt(reply::indexOf).filter(at -> at >= 0).min().orElse(-1);

            StopStrings whole = new StopStrings(stops);
            String shown = whole.push(reply);
            assertEquals(first >= 0, whole.stopped(), stops + " in " + reply);
            assertEquals(first >= 0 ? reply.substring(0, first) : reply, first >= 0 ? shown : shown + whole.flush());

            // char by char, the first stop string to complete ends the reply
            StopStrings pieces = new StopStrings(stops);
            StringBuilder streamed = new StringBuilder();
            for (int at = 0; at < reply.length() && !pieces.stopped(); at++) {
                streamed.append(pieces.push(reply.substring(at, at + 1)));
            }
            if (!pieces.stopped()) {
                streamed.append(pieces.flush());
            }
            assertEquals(firstToComplete(stops, reply), streamed.toString(), stops + " in " + reply);
        }
    }

    /** The reply up to the longest stop string of those that end first. */
    private static String firstToComplete(List<String> stops, String reply) {
        for (int end = 1; end <= reply.length(); end++) {
            String read = reply.substring(0, end);
            int longest = stops.stream().filter(read::endsWith).mapToInt(String::length).max().orElse(0);
            if (longest > 0) {
                return reply.substring(0, end - longest);
            }
        }
        return reply;
    }

    /** Text over a small alphabet, so that stop strings occur, overlap and nearly occur. */
    private static String text(Random random, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            text.append("abc".charAt(random.nextInt(3)));
        }
        return text.toString();
    }
}
