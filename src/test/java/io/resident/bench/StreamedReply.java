package io.resident.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Arrays;

/**
 * One streamed chat completion as the load benchmark saw it: when it was sent, when each chunk with text arrived,
 * when it ended, and the usage of its last chunk (stream_options.include_usage), read from the server-sent events
 * line by line as they come.
 *
 * @param startNanos  when the request was sent (System.nanoTime)
 * @param chunkNanos  when each chunk that carried reply text arrived
 * @param endNanos    when the stream ended ([DONE], an error or the connection's end)
 * @param outputTokens the usage's completion_tokens, -1 when no usage came
 * @param error       why the request failed, null when it did not
 */
record StreamedReply(long startNanos, long[] chunkNanos, long endNanos, int promptTokens, int outputTokens, String error) {

    boolean failed() {
        return error != null;
    }

    /** From the request to the first text, or to the end when no chunk carried text. */
    double timeToFirstTokenMs() {
        return ((chunkNanos.length > 0 ? chunkNanos[0] : endNanos) - startNanos) / 1e6;
    }

    double latencyMs() {
        return (endNanos - startNanos) / 1e6;
    }

    /** The gaps between successive chunks with text, as vLLM's benchmark measures inter-token latency. */
    double[] interTokenMs() {
        double[] gaps = new double[Math.max(0, chunkNanos.length - 1)];
        for (int i = 0; i < gaps.length; i++) {
            gaps[i] = (chunkNanos[i + 1] - chunkNanos[i]) / 1e6;
        }
        return gaps;
    }

    /** Time per output token after the first: (latency - time to first token) / (tokens - 1); NaN for one token. */
    double timePerOutputTokenMs() {
        return outputTokens > 1 ? (latencyMs() - timeToFirstTokenMs()) / (outputTokens - 1) : Double.NaN;
    }

    /** Reads one reply's event stream: feed it each line with the time it arrived, then {@link #reply}. */
    static final class Reader {

        private static final ObjectMapper JSON = new ObjectMapper();

        private final long startNanos;
        private long[] chunks = new long[64];
        private int chunkCount;
        private long endNanos = -1;
        private int promptTokens = -1;
        private int outputTokens = -1;
        private String error;

        Reader(long startNanos) {
            this.startNanos = startNanos;
        }

        /** One line of the body; events are "data: ..." lines, everything else (blank lines, comments) is skipped. */
        void line(String line, long nanos) {
            if (endNanos >= 0 || !line.startsWith("data:")) {
                return;
            }
            String data = line.substring(5).strip();
            if (data.equals("[DONE]")) {
                endNanos = nanos;
                return;
            }
            JsonNode chunk;
            try {
                chunk = JSON.readTree(data);
            } catch (IOException e) {
                fail("an event that is not JSON: " + data, nanos);
                return;
            }
            if (chunk.has("error")) {
                fail(chunk.get("error").path("message").asText(chunk.get("error").toString()), nanos);
                return;
            }
            JsonNode delta = chunk.path("choices").path(0).path("delta");
            if (!delta.path("content").asText("").isEmpty() || delta.has("tool_calls")) {
                if (chunkCount == chunks.length) {
                    chunks = Arrays.copyOf(chunks, chunkCount * 2);
                }
                chunks[chunkCount++] = nanos;
            }
            JsonNode usage = chunk.path("usage");
            if (usage.isObject()) {
                promptTokens = usage.path("prompt_tokens").asInt(-1);
                outputTokens = usage.path("completion_tokens").asInt(-1);
            }
        }

        /** The request failed before or outside its stream (a status other than 200, a broken connection). */
        void fail(String why, long nanos) {
            if (error == null) {
                error = why;
            }
            if (endNanos < 0) {
                endNanos = nanos;
            }
        }

        /** The reply once its body has ended at {@code nanos}; a stream without [DONE] or usage is a failure. */
        StreamedReply reply(long nanos) {
            if (endNanos < 0) {
                fail("the stream ended without [DONE]", nanos);
            } else if (error == null && outputTokens < 0) {
                error = "no usage chunk before [DONE]";
            }
            return new StreamedReply(startNanos, Arrays.copyOf(chunks, chunkCount), endNanos, promptTokens, outputTokens, error);
        }
    }
}
