package io.resident.api.ws;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.RawClient;
import io.resident.attack.ServiceDefaults;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With no API key (the default), any web page a user visits could open the chat WebSocket and POST completions as
 * text/plain (no preflight) and read the replies: the handshake wants the service's own Origin, and the API wants
 * JSON declared as JSON.
 */
@QuarkusTest
@TestProfile(ServiceDefaults.class)
class CrossOriginTest extends RunningChatApp {

    private static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}";

    @Test
    void aWebSocketFromAnotherOriginIsRefusedAtTheHandshake() throws Exception {
        for (String origin : List.of("http://evil.example", "null", "http://" + endpoint.getHost() + ":1",
                "https://" + endpoint.getHost() + ".evil.example:" + endpoint.getPort())) {
            assertEquals(403, handshakeStatus(origin), origin);
        }
        try (ChatClient own = ChatClient.open(vertx, endpoint, null,
                Map.of("Origin", "http://" + endpoint.getHost() + ":" + endpoint.getPort()))) {
            assertEquals("done", own.chat("Hi", ChatClient.options("max_tokens", 1)).type(), "the page's own origin");
        }
        try (ChatClient noBrowser = ChatClient.open(vertx, endpoint, null)) {
            assertEquals(36, noBrowser.sessionId().length(), "a client that is no browser");
        }
    }

    @Test
    void aBodyNotDeclaredJsonIs415() throws Exception {
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x")) {
            for (String path : List.of("/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize")) {
                try (RawClient client = RawClient.connect(endpoint.getHost(), endpoint.getPort())) {
                    client.post(endpoint.getHost(), path, type, CHAT);
                    String head = client.readHead();
                    assertTrue(head.startsWith("HTTP/1.1 415"), path + " " + type + ": " + head);
                    JsonNode error = ChatClient.JSON.readTree(client.read(contentLength(head))).path("error");
                    assertEquals("unsupported_media_type", error.path("code").asText(), error.toString());
                    assertTrue(error.path("message").asText().contains("Content-Type: application/json"), error.toString());
                }
            }
        }
        Response undeclared = given().body(CHAT.getBytes(StandardCharsets.UTF_8)).noContentType().post("/v1/chat/completions");
        assertEquals(415, undeclared.statusCode(), undeclared.asString());
        for (String type : List.of("application/json", "application/json; charset=utf-8", "application/vnd.api+json")) {
            assertEquals(200, given().contentType(type).body(CHAT).post("/v1/chat/completions").statusCode(), type);
        }
    }

    /** The status of the handshake a browser on another page would send. */
    private int handshakeStatus(String origin) throws Exception {
        StringBuilder head = new StringBuilder();
        try (RawClient client = RawClient.upgrade(endpoint.getHost(), endpoint.getPort(), endpoint.getPath(),
                Map.of("Origin", origin), head)) {
            return Integer.parseInt(head.substring(9, 12));
        }
    }

    private static int contentLength(String head) {
        return head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                .mapToInt(l -> Integer.parseInt(l.substring(15).strip())).findFirst().orElse(0);
    }
}
