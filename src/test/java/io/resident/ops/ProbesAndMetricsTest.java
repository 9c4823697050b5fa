package io.resident.ops;

import static io.restassured.RestAssured.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.engine.EngineBusyException;
import io.resident.engine.EngineProfile;
import io.resident.engine.FinishReason;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The probes and the Prometheus metrics of the running app, driven by replies straight through its engine. */
@QuarkusTest
@TestProfile(DemoEngineProfile.class)
class ProbesAndMetricsTest {

    private static final long GIB = 1L << 30;

    @Inject
    ModelHolder holder;

    @Inject
    SettableGpuMemory gpu;

    @AfterEach
    void noGpu() {
        gpu.clear();
    }

    @Test
    void startupLivenessAndReadinessNameTheirChecks() throws Exception {
        Served.await(holder);
        JsonPath started = health("/q/health/started", 200);
        assertEquals(List.of("model-loaded"), started.getList("checks.name"));
        assertEquals("UP", check(started, "model-loaded", "status"));
        assertEquals("READY", check(started, "model-loaded", "data.state"));

        JsonPath live = health("/q/health/live", 200);
        assertEquals(List.of("engine-alive"), live.getList("checks.name"));
        assertEquals("UP", check(live, "engine-alive", "status"));
        assertEquals("RUNNING", check(live, "engine-alive", "data.state"));

        JsonPath ready = health("/q/health/ready", 200);
        for (String name : List.of("model", "engine", "gpu-memory", "session-store")) {
            assertEquals("UP", check(ready, name, "status"), name);
        }
        assertEquals("memory", check(ready, "session-store", "data.store"), "sessions in memory unless Redis is asked for");
        assertEquals("resident-demo", check(ready, "model", "data.id"));
        assertEquals("none: the model runs on the CPU", check(ready, "gpu-memory", "data.gpu"));
        assertEquals("0.92", check(ready, "gpu-memory", "data.threshold"));
    }

    @Test
    void allChecksListEachCheckOnce() throws Exception {
        Served.await(holder);
        List<String> names = health("/q/health", 200).getList("checks.name");
        assertEquals(names.stream().distinct().toList(), names, "a check listed twice");
        assertTrue(names.containsAll(List.of("model-loaded", "model", "engine", "engine-alive", "gpu-memory")), names.toString());
    }

    @Test
    void readinessGoesDownWhenGpuMemoryUsePassesTheThresholdAndUpAgainBelowIt() throws Exception {
        Served.await(holder);
        gpu.set(40 * GIB, 80 * GIB);

        JsonPath below = health("/q/health/ready", 200);
        assertEquals("UP", check(below, "gpu-memory", "status"));
        assertEquals(String.valueOf(40 * GIB), check(below, "gpu-memory", "data.used").toString());
        assertEquals(String.valueOf(80 * GIB), check(below, "gpu-memory", "data.total").toString());
        assertEquals("0.5000", check(below, "gpu-memory", "data.ratio"));

        gpu.set(75 * GIB, 80 * GIB); // 0.9375 > 0.92
        JsonPath above = health("/q/health/ready", 503);
        assertEquals("DOWN", check(above, "gpu-memory", "status"));
        assertEquals("0.9375", check(above, "gpu-memory", "data.ratio"));
        assertEquals("UP", check(above, "model", "status"), "only the memory check is down");
        health("/q/health/live", 200);

        gpu.set(60 * GIB, 80 * GIB);
        assertEquals("UP", check(health("/q/health/ready", 200), "gpu-memory", "status"));
    }

    @Test
    void everyMetricMovesWhenRequestsRun() throws Exception {
        ServedModel served = Served.await(holder);
        gpu.set(3 * GIB, 80 * GIB);
        Map<String, Double> before = scrape();

        TokenStream first = Served.reply(served, "Tell me a long story", Integer.MAX_VALUE);
        TokenStream second = Served.reply(served, "Tell me another one", Integer.MAX_VALUE);
        List<CompletableFuture<FinishReason>> waiting = List.of(waiter(served), waiter(served));
        Served.untilStats(served.engine(), 2, 2);
        // admitted is not yet prefilled: the gauge is read once the engine has filled cache positions
        Served.until(() -> served.engine().stats().kvBlocksUsed() > 0, Duration.ofSeconds(20), "no KV-cache position filled");
        assertThrows(EngineBusyException.class, () -> Served.reply(served, "one too many", 8));
        gpu.set(5 * GIB, 80 * GIB);

        Map<String, Double> during = scrape();
        assertEquals(2, during.get("resident_requests_running"));
        assertEquals(2, during.get("resident_requests_waiting"));
        assertTrue(during.get("resident_kv_cache_usage_ratio") > 0, "KV cache in use");
        assertEquals(5.0 * GIB, during.get("resident_gpu_memory_used_bytes"));
        assertEquals(80.0 * GIB, during.get("resident_gpu_memory_total_bytes"));
        assertEquals(3.0 * GIB, before.get("resident_gpu_memory_used_bytes"), "the gauge follows the reading");

        first.cancel();
        second.cancel();
        for (CompletableFuture<FinishReason> reply : waiting) {
            assertEquals(FinishReason.LENGTH, reply.get(1, TimeUnit.MINUTES));
        }
        Served.untilStats(served.engine(), 0, 0);
        String resent = "Summarize the rules of croquet for a beginner, then list the equipment a club lends out.";
        Served.reply(served, resent, 2).collect();
        Served.reply(served, resent, 2).collect();

        Map<String, Double> after = scrape();
        for (String histogram : List.of("resident_time_to_first_token_seconds", "resident_inter_token_latency_seconds",
                "resident_request_duration_seconds", "resident_queue_wait_seconds")) {
            assertTrue(after.get(histogram + "_count") >= before.get(histogram + "_count") + 4, histogram + " counts every reply");
            assertTrue(after.get(histogram + "_sum") > before.get(histogram + "_sum"), histogram + " sums their times");
            assertTrue(after.keySet().stream().anyMatch(k -> k.startsWith(histogram + "_bucket{")), histogram + " is a histogram");
        }
        assertTrue(after.get("resident_prompt_tokens_total") >= before.get("resident_prompt_tokens_total") + 4 * 8, "prompt tokens");
        assertTrue(after.get("resident_generation_tokens_total") >= before.get("resident_generation_tokens_total") + 2 * 8 + 2,
                "generated tokens");
        assertEquals(before.getOrDefault("resident_request_errors_total{cause=\"busy\"}", 0.0) + 1,
                after.get("resident_request_errors_total{cause=\"busy\"}"));
        assertEquals(0, after.get("resident_requests_running"));
        assertEquals(0, after.get("resident_requests_waiting"));
        assertEquals(0, after.get("resident_kv_cache_usage_ratio"));
        assertTrue(after.get("resident_prefix_cache_queries_total") >= before.get("resident_prefix_cache_queries_total") + 6 * 8,
                "every prompt is looked up");
        assertTrue(after.get("resident_prefix_cache_hits_total") >= before.get("resident_prefix_cache_hits_total") + 16,
                "the resent prompt's full blocks are hits");
        assertTrue(after.containsKey("resident_preemptions_total"));
        assertTrue(after.get("resident_engine_steps_total") > before.get("resident_engine_steps_total"), "the engine's steps");
        for (EngineProfile.Phase phase : EngineProfile.Phase.values()) {
            String series = "resident_engine_thread_seconds_total{phase=\"" + phase.tag() + "\"}";
            assertTrue(after.get(series) >= before.get(series), series + " only grows");
        }
        assertTrue(after.get("resident_engine_thread_seconds_total{phase=\"model\"}")
                > before.get("resident_engine_thread_seconds_total{phase=\"model\"}"), "the steps' time is the model's");
    }

    private static CompletableFuture<FinishReason> waiter(ServedModel served) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return Served.reply(served, "Hello there", 8).collect().done().reason();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, Thread::startVirtualThread);
    }

    private static JsonPath health(String path, int status) {
        Response response = get(path);
        assertEquals(status, response.statusCode(), path + ": " + response.asString());
        return response.jsonPath();
    }

    private static Object check(JsonPath health, String name, String field) {
        return health.get("checks.find { it.name == '" + name + "' }." + field);
    }

    /** Every sample of /q/metrics, by its name and labels as Prometheus prints them. */
    private static Map<String, Double> scrape() {
        Map<String, Double> samples = new HashMap<>();
        for (String line : get("/q/metrics").then().statusCode(200).extract().asString().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                int space = line.lastIndexOf(' ');
                samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return samples;
    }
}
