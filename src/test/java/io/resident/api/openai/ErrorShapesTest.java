package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.RawClient;
import io.resident.attack.ServiceDefaults;
import io.resident.engine.ModelHolder;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Errors the framework made came without the OpenAI body, unmatched paths were answered before the key check, an
 * abandoned upload counted as a server error, a client's reset was a WARN line, and some wrongly typed or encoded
 * fields passed.
 */
@QuarkusTest
@TestProfile(ErrorShapesTest.Keyed.class)
class ErrorShapesTest {

    /** The defaults, behind an API key and with a 64 KiB body limit. */
    public static class Keyed extends ServiceDefaults {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> overrides = new HashMap<>(super.getConfigOverrides());
            overrides.put("resident.api-key", KEY);
            overrides.put("resident.max-request-body", Integer.toString(BODY_LIMIT));
            return overrides;
        }
    }

    static final String KEY = "sk-resident-errors";
    static final String BEARER = "Bearer " + KEY;
    static final int BODY_LIMIT = 64 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CLOSED_WITHIN = Duration.ofSeconds(15);

    @Inject
    ModelHolder holder;

    @TestHTTPResource("/")
    URL base;

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
    }

    @Test
    void aChunkedBodyOverTheLimitIs413AndTheConnectionCloses() throws Exception {
        try (RawClient client = RawClient.connect(base.getHost(), base.getPort())) {
            client.write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + BEARER
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            String chunk = Integer.toHexString(BODY_LIMIT) + "\r\n" + " ".repeat(BODY_LIMIT) + "\r\n";
            client.write(chunk + chunk);
            String head = client.readHead();
            assertTrue(head.startsWith("HTTP/1.1 413"), head);
            assertOpenAiError(head, client, "request_too_large");
            assertTrue(client.closedByServer(CLOSED_WITHIN));
        }
    }

    @Test
    void requestsTheHttpCodecCannotReadGetTheOpenAiBody() throws Exception {
        Map<String, String> answers = Map.of(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 12x\r\n\r\n", "400 invalid_http",
                "GET /v1/models?q=" + "a".repeat(8192) + " HTTP/1.1\r\nHost: localhost\r\n\r\n", "414 uri_too_long",
                "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + "a".repeat(32 * 1024) + "\r\n\r\n",
                "431 headers_too_large");
        for (Map.Entry<String, String> request : answers.entrySet()) {
            try (RawClient client = RawClient.connect(base.getHost(), base.getPort())) {
                client.write(request.getKey());
                String head = client.readHead();
                String[] expected = request.getValue().split(" ");
                assertTrue(head.startsWith("HTTP/1.1 " + expected[0]), head);
                assertOpenAiError(head, client, expected[1]);
                assertTrue(client.closedByServer(CLOSED_WITHIN));
            }
        }
    }

    @Test
    void unknownPathsAndMethodsUnderV1AreAnsweredAfterTheKeyCheck() throws Exception {
        for (Response response : List.of(given().post("/v1/embeddings"), given().get("/v1/chat/completions"),
                given().header("Authorization", "Bearer wrong").delete("/v1/models"))) {
            assertEquals(401, response.statusCode(), response.asString());
            assertEquals("Bearer", response.header("WWW-Authenticate"));
            assertEquals("invalid_api_key", JSON.readTree(response.asString()).at("/error/code").asText());
        }
        assertEquals(404, given().header("Authorization", BEARER).post("/v1/embeddings").statusCode());
        assertEquals(405, given().header("Authorization", BEARER).get("/v1/chat/completions").statusCode());
    }

    @Test
    void anAbandonedUploadIsNoServerError() throws Exception {
        double before = requests("RESET");
        for (int i = 0; i < 3; i++) {
            try (RawClient client = RawClient.connect(base.getHost(), base.getPort())) {
                client.write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + BEARER
                        + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"messages\":");
            }
        }
        long deadline = System.nanoTime() + CLOSED_WITHIN.toNanos();
        while (requests("RESET") < before + 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(before + 3, requests("RESET"), "each abandoned upload is one reset");
        assertEquals(0, requests("500"), "an abandoned upload counted as a server error");
    }

    /** http_server_requests_seconds_count of the chat endpoint with this status. */
    private static double requests(String status) {
        return given().get("/q/metrics").asString().lines()
                .filter(l -> l.startsWith("http_server_requests_seconds_count") && l.contains("uri=\"/v1/chat/completions\"")
                        && l.contains("status=\"" + status + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void wronglyTypedOverlongAndOutOfRangeFieldsAre400s() throws Exception {
        Map<String, String> bad = Map.of(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"5\"}", "max_tokens",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logprobs\":5}", "logprobs",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":1e400}", "temperature");
        for (Map.Entry<String, String> request : bad.entrySet()) {
            JsonNode error = refused(request.getKey().getBytes(StandardCharsets.UTF_8));
            assertEquals(request.getValue(), error.path("param").asText(), error.toString());
        }
        assertTrue(refused(bad.keySet().stream().filter(b -> b.contains("1e400")).findFirst().orElseThrow()
                .getBytes(StandardCharsets.UTF_8)).path("message").asText().contains("out of range"));

        ByteArrayOutputStream overlong = new ByteArrayOutputStream();
        overlong.writeBytes("{\"messages\":[{\"role\":\"user\",\"content\":\"".getBytes(StandardCharsets.UTF_8));
        overlong.writeBytes(new byte[] {(byte) 0xC0, (byte) 0xAF}); // '/' in two bytes
        overlong.writeBytes("\"}],\"max_tokens\":1}".getBytes(StandardCharsets.UTF_8));
        assertTrue(refused(overlong.toByteArray()).path("message").asText().contains("not valid UTF-8"));
    }

    @Test
    void aClientResetOnTheWebSocketIsCounted() throws Exception {
        double before = counted("connection_reset");
        StringBuilder head = new StringBuilder();
        RawClient socket = RawClient.upgrade(base.getHost(), base.getPort(), "/ws/chat",
                Map.of("Authorization", BEARER), head);
        assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
        socket.readFrame(); // the session frame
        socket.reset();
        long deadline = System.nanoTime() + CLOSED_WITHIN.toNanos();
        while (counted("connection_reset") <= before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(before + 1, counted("connection_reset"));
    }

    /** The answer under {@code head} is JSON with OpenAI's error body and this code. */
    private static void assertOpenAiError(String head, RawClient client, String code) throws Exception {
        assertTrue(head.toLowerCase().contains("content-type: application/json"), head);
        JsonNode error = JSON.readTree(client.readBody(head)).path("error");
        assertEquals(code, error.path("code").asText(), error.toString());
        assertEquals("invalid_request_error", error.path("type").asText(), error.toString());
        assertTrue(error.has("message") && error.has("param"), error.toString());
    }

    private static JsonNode refused(byte[] body) throws Exception {
        Response response = given().header("Authorization", BEARER).contentType("application/json")
                .body(body).post("/v1/chat/completions");
        assertEquals(400, response.statusCode(), response.asString());
        JsonNode error = JSON.readTree(response.asString()).path("error");
        assertEquals("invalid_request_error", error.path("type").asText(), error.toString());
        return error;
    }

    private static double counted(String cause) {
        return given().get("/q/metrics").asString().lines()
                .filter(l -> l.startsWith("resident_request_errors_total{cause=\"" + cause + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
