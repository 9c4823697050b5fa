package io.resident.ops;

import static io.restassured.RestAssured.get;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** k8s/optional/grafana-dashboard.json queries only series that the running app's /q/metrics has, and covers its topics. */
@QuarkusTest
@TestProfile(DemoEngineProfile.class)
class GrafanaDashboardTest {

    private static final Pattern METRIC = Pattern.compile("\\bresident_[a-z0-9_]+");

    @Test
    void everyMetricTheDashboardQueriesIsInTheMetricsEndpoint() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Path.of("k8s/optional/grafana-dashboard.json").toFile());
        List<String> queries = new ArrayList<>();
        dashboard.findValues("expr").forEach(expr -> queries.add(expr.asText()));
        dashboard.findValues("query").forEach(query -> queries.add(query.asText()));
        Set<String> queried = new TreeSet<>();
        for (String query : queries) {
            Matcher m = METRIC.matcher(query);
            while (m.find()) {
                queried.add(m.group());
            }
        }
        // the error counter has a series once an error was counted: a request with a wrongly typed field
        given().contentType("application/json").body("{\"messages\": 5}").post("/v1/chat/completions").then().statusCode(400);
        Set<String> exported = new TreeSet<>();
        for (String line : get("/q/metrics").then().statusCode(200).extract().asString().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                exported.add(line.split("[{ ]", 2)[0]);
            }
        }
        Set<String> missing = new TreeSet<>(queried);
        missing.removeAll(exported);
        assertEquals(Set.of(), missing, "queried by the dashboard, not at /q/metrics");

        // what the dashboard is for: throughput, latency percentiles, load, KV cache, sessions, GPU memory, errors, the engine thread
        assertTrue(queried.containsAll(Set.of("resident_generation_tokens_total", "resident_time_to_first_token_seconds_bucket",
                "resident_inter_token_latency_seconds_bucket", "resident_requests_running", "resident_requests_waiting",
                "resident_kv_cache_usage_ratio", "resident_sessions_active", "resident_gpu_memory_used_bytes",
                "resident_gpu_memory_total_bytes", "resident_gpu_memory_readiness_threshold", "resident_request_errors_total",
                "resident_session_store_duration_seconds_bucket", "resident_engine_thread_seconds_total")),
                queried.toString());
        dashboard.get("panels").forEach(panel -> assertEquals("${datasource}", panel.at("/datasource/uid").asText(),
                panel.get("title").asText() + " reads the dashboard's Prometheus"));
    }
}
