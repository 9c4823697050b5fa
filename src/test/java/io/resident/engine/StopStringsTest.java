package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
}
