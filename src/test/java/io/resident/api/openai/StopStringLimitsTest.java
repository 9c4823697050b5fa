package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.ServiceDefaults;
import io.resident.engine.ModelHolder;
import io.resident.engine.SamplingParams;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Stop strings are bounded as OpenAI bounds them (at most 4, each of at most 256 characters here): one request with
 * 950,000 of them slowed every reply 30x. Beyond the bounds a request is a 400 naming "stop"; within them they work.
 */
@QuarkusTest
@TestProfile(ServiceDefaults.class)
class StopStringLimitsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    ModelHolder holder;

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
    }

    @Test
    void tooManyOrTooLongStopStringsAreRefused() throws Exception {
        ArrayNode many = JSON.createArrayNode();
        for (int i = 0; i < 100_000; i++) {
            many.add("s" + i);
        }
        for (JsonNode stop : List.<JsonNode>of(JSON.valueToTree(List.of("a", "b", "c", "d", "e")), many,
                JSON.valueToTree("x".repeat(SamplingParams.MAX_STOP_LENGTH + 1)))) {
            for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
                ObjectNode body = request(path, 4);
                body.set("stop", stop);
                Response response = post(path, body);
                JsonNode error = JSON.readTree(response.asString()).path("error");
                assertEquals(400, response.statusCode(), response.asString());
                assertEquals("stop", error.path("param").asText(), error.toString());
                assertEquals("invalid_request_error", error.path("type").asText(), error.toString());
                assertTrue(error.path("message").asText().startsWith("'stop' must hold at most 4 strings of at most 256"),
                        error.toString());
            }
        }
    }

    @Test
    void fourStopStringsOfTheLongestLengthEndTheReplyAtTheFirstOneFound() throws Exception {
        String path = "/v1/chat/completions";
        String whole = content(post(path, request(path, 24)));
        assertTrue(whole.length() >= 8, "a reply long enough to cut: " + whole);
        String stop = whole.substring(whole.length() / 2, whole.length() / 2 + 3);

        ObjectNode body = request(path, 24);
        ArrayNode stops = body.putArray("stop");
        for (char decoy : "\u0001\u0002\u0003".toCharArray()) {
            stops.add(String.valueOf(decoy).repeat(SamplingParams.MAX_STOP_LENGTH));
        }
        stops.add(stop);
        Response cut = post(path, body);
        assertEquals(whole.substring(0, whole.indexOf(stop)), content(cut));
        assertEquals("stop", JSON.readTree(cut.asString()).at("/choices/0/finish_reason").asText());
    }

    private static ObjectNode request(String path, int maxTokens) {
        ObjectNode body = JSON.createObjectNode().put("max_tokens", maxTokens).put("temperature", 0);
        if (path.endsWith("chat/completions")) {
            body.putArray("messages").addObject().put("role", "user").put("content", "Count to twenty.");
        } else {
            body.put("prompt", "Once upon a time");
        }
        return body;
    }

    private static Response post(String path, JsonNode body) {
        return given().contentType("application/json").body(body.toString()).post(path);
    }

    private static String content(Response response) throws Exception {
        assertEquals(200, response.statusCode(), response.asString());
        return JSON.readTree(response.asString()).at("/choices/0/message/content").asText();
    }
}
