package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.RawClient;
import io.resident.attack.ServiceDefaults;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A compressed WebSocket message is inflated whole before the size cap applies, so a 200 KB frame could cost 200 MB
 * and hold an event loop: with the default settings the service offers no compression, and a compressed frame sent
 * anyway closes the connection without being inflated.
 */
@QuarkusTest
@TestProfile(ServiceDefaults.class)
class CompressionBombTest extends RunningChatApp {

    /** What the bomb inflates to: 100 times the transport's cap (4 x 512K). */
    private static final int INFLATED = 200 << 20;

    @Test
    void aRealPermessageDeflateClientGetsNoCompressionAndChatsAsUsual() throws Exception {
        WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setTryUsePerMessageCompression(true).setTryUsePerFrameCompression(true));
        try {
            CompletableFuture<String> reply = new CompletableFuture<>();
            CompletableFuture<String> extensions = new CompletableFuture<>();
            WebSocket socket = client.connect(new WebSocketConnectOptions().setHost(endpoint.getHost())
                            .setPort(endpoint.getPort()).setURI(endpoint.getPath()))
                    .onSuccess(opened -> extensions.complete(opened.headers().get("Sec-WebSocket-Extensions")))
                    .toCompletionStage().toCompletableFuture().get(ChatClient.WAIT.toSeconds(), TimeUnit.SECONDS);
            assertNull(extensions.get(), "the server accepted compression");
            socket.textMessageHandler(text -> {
                if (text.contains("\"done\"")) {
                    reply.complete(text);
                }
            });
            socket.writeTextMessage(ChatClient.chatFrame("Hi").set("options", options("max_tokens", 2)).toString());
            assertTrue(reply.get(ChatClient.WAIT.toSeconds(), TimeUnit.SECONDS).contains("\"finishReason\""));
            socket.close();
        } finally {
            client.close();
        }
    }

    @Test
    void aCompressedFrameSentAnywayClosesTheConnectionUninflated() throws Exception {
        byte[] bomb = RawClient.permessageDeflate(INFLATED);
        StringBuilder head = new StringBuilder();
        try (RawClient raw = RawClient.upgrade(endpoint.getHost(), endpoint.getPort(), endpoint.getPath(),
                Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits, deflate-frame"), head)) {
            assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
            assertFalse(head.toString().toLowerCase().contains("sec-websocket-extensions"), head.toString());
            assertEquals("session", ChatClient.JSON.readTree(raw.readFrame().text()).get("type").asText());

            RawClient.Frame answer;
            try {
                raw.sendFrame(RawClient.TEXT, true, bomb);
                answer = raw.readFrame();
            } catch (IOException e) {
                answer = null; // reset: the server may close on the frame's header, before its payload is all written
            }
            assertTrue(answer == null || answer.opcode() == RawClient.CLOSE, "the server answered " + answer);
            assertTrue(raw.closedByServer(ChatClient.WAIT), "the connection stays open");
        }
        HttpResponse<String> live = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + endpoint.getHost() + ":" + endpoint.getPort() + "/q/health/live"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, live.statusCode(), live.body());
    }
}
