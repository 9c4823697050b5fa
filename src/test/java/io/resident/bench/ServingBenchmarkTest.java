package io.resident.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.EngineProfile.Phase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The serving benchmark on a tiny fixture with tiny numbers, its interference run included: 2 streams decode while 2
 * prompts of 64 tokens arrive, prefilled 16 tokens a step beside them. What is checked is the report's shape and the
 * order of events (the prompts had their first tokens while both streams still decoded), never a speed.
 */
class ServingBenchmarkTest {

    private static final int DECODERS = 2;
    private static final int PROMPT = 64;
    private static final int CHUNK = 16;
    private static final int PLAIN_TOKENS = 8;
    /** The decoding streams may run to the context's end: far more steps than the windows take. */
    private static final int CONTEXT = 1024;

    @Test
    @SuppressWarnings("unchecked")
    void theInterferenceRunMeasuresDecodingStreamsWhileTheArrivingPromptsPrefill() throws Exception {
        Map<String, Object> report = new ServingBenchmark(ServingBenchmark.Options.parse(new String[] {
                "--model", "src/test/resources/fixtures/qwen2-tiny", "--device", "cpu", "--prompts", "16", "--batches", "2",
                "--streams", "2", "--tokens", "8", "--stream-prompt", "8", "--prefill-chunk", Integer.toString(CHUNK),
                "--decode-steps", Integer.toString(PLAIN_TOKENS), "--interference", DECODERS + "," + PROMPT,
                "--chat-turns", "0", "--chat-history", "0", "--pool-chats", "0", "--pool-context", Integer.toString(CONTEXT)})).run();

        assertEquals(CHUNK, report.get("prefill_chunk"));
        assertEquals(256, report.get("max_step_tokens"), "the service's step budget on the CPU");
        Map<String, Object> interference = (Map<String, Object>) report.get("interference");
        assertEquals(DECODERS, interference.get("decoding_streams"));
        assertEquals(DECODERS, interference.get("arriving_prompts"));
        assertEquals(PROMPT, interference.get("arriving_prompt_tokens"));

        Map<String, Object> plain = (Map<String, Object>) interference.get("plain");
        Map<String, Object> during = (Map<String, Object>) interference.get("during_prefill");
        for (Map<String, Object> window : List.of(plain, during)) {
            assertTrue(((Map<String, Object>) window.get("itl_ms")).keySet().containsAll(List.of("p50", "p90", "p99", "max"))
                    || (Integer) window.get("gaps") == 0, window.toString());
            assertEquals(2L, window.get("decoding_streams_cancelled"),
                    "both streams were still decoding when the window closed, and ended only when cancelled: " + window);
            assertSplit((Map<String, Object>) window.get("engine_thread"));
        }
        assertTrue((Integer) plain.get("gaps") >= DECODERS * PLAIN_TOKENS, "every stream's tokens of the plain window: " + plain);
        assertEquals(DECODERS, during.get("arrivals_first_tokens"), "every arriving prompt had its first token: " + during);
        assertTrue(((Map<String, Object>) during.get("arrivals_ttft_ms")).containsKey("max"));
        // two prompts of 64 tokens, 16 a step: at least 8 steps, the last of which the profile may not show yet
        assertTrue((Long) ((Map<String, Object>) during.get("engine_thread")).get("steps") >= 2 * PROMPT / CHUNK - 1, during.toString());
        assertTrue(((Map<String, Object>) interference.get("itl_ratio")).containsKey("p50") || (Integer) during.get("gaps") == 0);

        Map<String, Object> streams = (Map<String, Object>) ((Map<String, Object>) report.get("streams")).get("2");
        assertSplit((Map<String, Object>) streams.get("engine_thread"));
        String table = Table.of(report);
        assertTrue(table.contains("2 decoding streams while 2 prompts of 64 tokens arrive at once"), table);
        assertTrue(table.contains("the engine thread, during the prefill: "), table);
    }

    @SuppressWarnings("unchecked")
    private static void assertSplit(Map<String, Object> split) {
        assertTrue((Long) split.get("steps") > 0, split.toString());
        double pct = 0;
        Map<String, Object> phases = (Map<String, Object>) split.get("phases");
        assertEquals(Phase.values().length, phases.size(), split.toString());
        for (Phase phase : Phase.values()) {
            Map<String, Object> row = (Map<String, Object>) phases.get(phase.tag());
            pct += (Double) row.get("pct");
            assertTrue((Double) row.get("ms_per_step") >= 0, split.toString());
        }
        assertEquals(100, pct, 0.05 * Phase.values().length, "the phases' shares make the whole: " + split);
    }
}
