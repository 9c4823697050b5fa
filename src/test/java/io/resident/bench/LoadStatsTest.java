package io.resident.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The load benchmark's reading of an event stream and its figures, on hand-made streams with known timestamps. */
class LoadStatsTest {

    private static final long MS = 1_000_000;
    private static final String ID = "\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\"";

    /** A chat completion's events as resident sends them: role, text per token, finish, usage, [DONE]; times in ms. */
    private static StreamedReply reply(long startMs, long[] textMs, int promptTokens, long endMs) {
        StreamedReply.Reader reader = new StreamedReply.Reader(startMs * MS);
        reader.line("data: {" + ID + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                + "\"logprobs\":null,\"finish_reason\":null}]}", startMs * MS + MS / 2);
        reader.line("", startMs * MS + MS / 2);
        for (int i = 0; i < textMs.length; i++) {
            reader.line("data: {" + ID + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"w" + i + "\"},"
                    + "\"logprobs\":null,\"finish_reason\":null}]}", textMs[i] * MS);
            reader.line("", textMs[i] * MS);
        }
        reader.line("data: {" + ID + ",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}]}", endMs * MS);
        reader.line("data: {" + ID + ",\"choices\":[],\"usage\":{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":"
                + textMs.length + ",\"total_tokens\":" + (promptTokens + textMs.length) + "}}", endMs * MS);
        reader.line("data: [DONE]", endMs * MS);
        return reader.reply(endMs * MS + 5 * MS);
    }

    @Test
    void readsTextChunksUsageAndEndFromTheEvents() {
        StreamedReply r = reply(100, new long[] {130, 140, 155, 175}, 128, 176);
        assertNull(r.error());
        assertArrayEquals(new long[] {130 * MS, 140 * MS, 155 * MS, 175 * MS}, r.chunkNanos(), "the role chunk and the finish carry no text");
        assertEquals(128, r.promptTokens());
        assertEquals(4, r.outputTokens());
        assertEquals(30.0, r.timeToFirstTokenMs(), 1e-9, "to the first text, not to the role chunk");
        assertArrayEquals(new double[] {10, 15, 20}, r.interTokenMs(), 1e-9);
        assertEquals(76.0, r.latencyMs(), 1e-9, "to [DONE]");
        assertEquals((76.0 - 30.0) / 3, r.timePerOutputTokenMs(), 1e-9);
    }

    @Test
    void aStreamThatBreaksOffOrReportsAnErrorIsAFailure() {
        StreamedReply.Reader cut = new StreamedReply.Reader(0);
        cut.line("data: {" + ID + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}", 5 * MS);
        StreamedReply broken = cut.reply(9 * MS);
        assertEquals("the stream ended without [DONE]", broken.error());
        assertEquals(9 * MS, broken.endNanos());

        StreamedReply.Reader failing = new StreamedReply.Reader(0);
        failing.line("data: {\"error\":{\"message\":\"The engine failed while generating: boom\",\"type\":\"internal_error\"}}", MS);
        failing.line("data: [DONE]", 2 * MS);
        assertEquals("The engine failed while generating: boom", failing.reply(3 * MS).error());

        StreamedReply.Reader noUsage = new StreamedReply.Reader(0);
        noUsage.line("data: [DONE]", MS);
        assertEquals("no usage chunk before [DONE]", noUsage.reply(MS).error());

        StreamedReply.Reader refused = new StreamedReply.Reader(0);
        refused.fail("HTTP 503: busy", 4 * MS);
        refused.line("data: [DONE]", 6 * MS);
        StreamedReply busy = refused.reply(7 * MS);
        assertEquals("HTTP 503: busy", busy.error());
        assertEquals(4 * MS, busy.endNanos());
    }

    @Test
    void percentilesInterpolateBetweenRanksAsNumpyDoes() {
        double[] values = {4, 1, 3, 2};
        assertEquals(2.5, LoadStats.percentile(values, 50), 1e-12);
        assertEquals(3.7, LoadStats.percentile(values, 90), 1e-12);
        assertEquals(3.97, LoadStats.percentile(values, 99), 1e-12);
        assertEquals(1.0, LoadStats.percentile(values, 0), 1e-12);
        assertEquals(4.0, LoadStats.percentile(values, 100), 1e-12);
        assertEquals(7.0, LoadStats.percentile(new double[] {7}, 99), 1e-12);
        assertTrue(Double.isNaN(LoadStats.percentile(new double[0], 50)));
        assertArrayEquals(new double[] {4, 1, 3, 2}, values, "the caller's array stays as it was");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aLevelsFiguresComeFromItsTimestamps() {
        StreamedReply a = reply(0, new long[] {20, 30, 40, 50}, 128, 50);
        StreamedReply b = reply(10, new long[] {50, 60, 70, 100}, 128, 100);
        StreamedReply.Reader refused = new StreamedReply.Reader(5 * MS);
        refused.fail("HTTP 503: busy", 6 * MS);
        Map<String, Object> level = LoadStats.summarize(List.of(a, b, refused.reply(6 * MS)), 0, 200 * MS);

        assertEquals(3, level.get("requests"));
        assertEquals(2, level.get("completed"));
        assertEquals(1, level.get("failed"));
        assertEquals(List.of("HTTP 503: busy"), level.get("errors"));
        assertEquals(8L, level.get("output_tokens"), "failed requests count no tokens");
        assertEquals(256L, level.get("prompt_tokens"));
        assertEquals(0.2, level.get("duration_s"));
        assertEquals(40.0, level.get("output_tokens_per_s"), "8 tokens over 0.2 s");
        assertEquals(10.0, level.get("requests_per_s"));
        Map<String, Object> ttft = (Map<String, Object>) level.get("ttft_ms");
        assertEquals(Map.of("mean", 30.0, "p50", 30.0, "p90", 38.0, "p99", 39.8), ttft, "20 and 40 ms");
        Map<String, Object> itl = (Map<String, Object>) level.get("itl_ms");
        assertEquals(10.0, itl.get("p50"), "gaps 10, 10, 10, 10, 10, 30");
        assertEquals(20.0, itl.get("p90"));
        assertEquals(13.33, itl.get("mean"));
        Map<String, Object> tpot = (Map<String, Object>) level.get("tpot_ms");
        assertEquals(13.33, tpot.get("p50"), "(50 - 20) / 3 = 10 and (90 - 40) / 3 = 16.67");
        assertEquals(Map.of("mean", 70.0, "p50", 70.0, "p90", 86.0, "p99", 89.6), level.get("latency_ms"));
    }

    @Test
    void poissonArrivalsHaveTheRequestedRateAndAllAtOnceIsZero() {
        assertArrayEquals(new long[5], LoadBenchmark.arrivals(5, Double.POSITIVE_INFINITY, new Random(1)));
        long[] at = LoadBenchmark.arrivals(20_001, 50, new Random(1));
        assertEquals(0, at[0]);
        for (int i = 1; i < at.length; i++) {
            assertFalse(at[i] < at[i - 1], "arrivals never go back in time");
        }
        double rate = 20_000 / (at[at.length - 1] / 1e9);
        assertEquals(50, rate, 50 * 0.03, "20,000 exponential gaps at 50/s average 20 ms within 3% (seeded, so always the same)");
    }
}
