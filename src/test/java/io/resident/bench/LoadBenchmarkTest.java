package io.resident.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The load benchmark against the app on the demo model: exact prompt and reply lengths, no failures. */
@QuarkusTest
class LoadBenchmarkTest {

    private static final int PROMPT = 24;
    private static final int REPLY = 6;

    @TestHTTPResource("/")
    URL url;

    @Test
    @SuppressWarnings("unchecked")
    void everyStreamIsAsLongAsAskedAndNoneFails() throws Exception {
        LoadBenchmark benchmark = new LoadBenchmark(LoadBenchmark.Options.parse(new String[] {"--url", url.toString(),
                "--concurrency", "1,3", "--rounds", "1", "--prompt-tokens", Integer.toString(PROMPT), "--max-tokens",
                Integer.toString(REPLY), "--temperature", "0.8", "--top-p", "0.8", "--warmup", "false", "--ready-timeout", "120"}));
        benchmark.awaitReady();

        LoadBenchmark.Level level = benchmark.level(4);
        assertEquals(4, level.replies().size());
        for (StreamedReply reply : level.replies()) {
            assertNull(reply.error());
            assertEquals(PROMPT, reply.promptTokens(), "the chat prompt is built to the exact length");
            assertEquals(REPLY, reply.outputTokens(), "ignore_eos with max_tokens: every reply has exactly that many tokens");
            assertTrue(reply.chunkNanos().length <= REPLY, "at most one chunk with text per token");
        }

        Map<String, Object> report = benchmark.run();
        List<Map<String, Object>> levels = (List<Map<String, Object>>) report.get("levels");
        assertEquals(List.of(1, 3), levels.stream().map(l -> l.get("concurrency")).toList());
        for (Map<String, Object> summary : levels) {
            int requests = (Integer) summary.get("requests");
            assertEquals(0, summary.get("failed"));
            assertEquals((long) requests * REPLY, summary.get("output_tokens"));
            assertEquals((long) requests * PROMPT, summary.get("prompt_tokens"));
            assertTrue((Double) summary.get("output_tokens_per_s") > 0);
            Map<String, Object> engineThread = (Map<String, Object>) summary.get("engine_thread");
            assertTrue((Long) engineThread.get("steps") >= REPLY - 1, "the level's steps, from /q/metrics: " + engineThread);
            assertEquals(Set.of("model", "sample", "schedule", "output", "idle"), ((Map<String, Object>) engineThread.get("phases")).keySet(),
                    engineThread.toString());
        }
        assertTrue(LoadBenchmark.table(report).contains("| 3 | 3 | 0 |"), LoadBenchmark.table(report));
        assertTrue(LoadBenchmark.table(report).contains("concurrency 3, the engine thread: "), LoadBenchmark.table(report));
    }
}
