package io.resident.api.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.resident.engine.Engine;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real WebSocket client (Vert.x's) speaking the chat protocol to the running app; frames queue up as they arrive. */
final class ChatClient implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(60);

    /** A turn as the client saw it: the delta texts, then the done (or error) frame. */
    record Reply(List<String> deltas, JsonNode end) {

        String text() {
            return String.join("", deltas);
        }

        String type() {
            return end.path("type").asText();
        }
    }

    private final WebSocketClient client;
    private final WebSocket socket;
    private final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    private final CompletableFuture<Short> closed = new CompletableFuture<>();
    private JsonNode session;

    private ChatClient(WebSocketClient client, WebSocket socket) {
        this.client = client;
        this.socket = socket;
        socket.textMessageHandler(text -> frames.add(parse(text)));
        socket.binaryMessageHandler(data -> frames.add(JSON.createObjectNode().put("type", "binary-from-server")));
        socket.closeHandler(v -> closed.complete(socket.closeStatusCode()));
    }

    /** Opens /ws/chat with a query string (or null) and handshake headers. */
    static ChatClient connect(Vertx vertx, URI endpoint, String query, Map<String, String> headers) {
        return connect(vertx, endpoint, query, headers, 16 << 20);
    }

    /** Opens /ws/chat sending messages in frames of at most maxFrameSize bytes (a longer message is fragmented). */
    static ChatClient connect(Vertx vertx, URI endpoint, String query, Map<String, String> headers, int maxFrameSize) {
        return connect(vertx, endpoint, query, headers, new WebSocketClientOptions().setMaxFrameSize(maxFrameSize));
    }

    /** Opens /ws/chat from another loopback address (127.0.0.2 ...): another client, as the server counts them. */
    static ChatClient connectFrom(Vertx vertx, URI endpoint, String localAddress, String query) {
        URI overIpv4 = URI.create("ws://127.0.0.1:" + endpoint.getPort() + endpoint.getPath());
        return connect(vertx, overIpv4, query, Map.of(), new WebSocketClientOptions().setLocalAddress(localAddress));
    }

    private static ChatClient connect(Vertx vertx, URI endpoint, String query, Map<String, String> headers,
            WebSocketClientOptions options) {
        WebSocketClient client = vertx.createWebSocketClient(options.setMaxMessageSize(64 << 20));
        WebSocketConnectOptions connect = new WebSocketConnectOptions()
                .setHost(endpoint.getHost()).setPort(endpoint.getPort())
                .setURI(endpoint.getPath() + (query == null ? "" : "?" + query));
        headers.forEach(connect::addHeader);
        try {
            // handlers are set on the event loop as the connection opens, before it reads the first frame
            return client.connect(connect).map(socket -> new ChatClient(client, socket)).toCompletionStage()
                    .toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            client.close();
            throw new AssertionError("cannot connect to " + endpoint + ": " + e, e);
        }
    }

    static ChatClient connect(Vertx vertx, URI endpoint) {
        return connect(vertx, endpoint, null, Map.of());
    }

    /** Opens a connection and reads its session frame (see {@link #session()}). */
    static ChatClient open(Vertx vertx, URI endpoint, String query) {
        return open(vertx, endpoint, query, Map.of());
    }

    /** Opens a connection with handshake headers and reads its session frame. */
    static ChatClient open(Vertx vertx, URI endpoint, String query, Map<String, String> headers) {
        ChatClient chat = connect(vertx, endpoint, query, headers);
        chat.session = chat.next("session");
        return chat;
    }

    /** The session frame {@link #open} read. */
    JsonNode session() {
        return session;
    }

    String sessionId() {
        return session.get("sessionId").asText();
    }

    /** Waits until no reply runs or waits (the replies of earlier tests' closed connections end at the next step). */
    static void awaitIdle(Engine engine) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (engine.stats().running() + engine.stats().waiting() > 0) {
            if (System.nanoTime() > deadline) {
                fail("the engine still has replies after " + WAIT + ": " + engine.stats());
            }
            Thread.sleep(5);
        }
    }

    /** The next frame from the server; fails after a minute of silence. */
    JsonNode next() {
        try {
            JsonNode frame = frames.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(frame, "no frame from the server within " + WAIT);
            return frame;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next frame, which must be of this type. */
    JsonNode next(String type) {
        JsonNode frame = next();
        assertEquals(type, frame.path("type").asText(), "unexpected frame " + frame);
        return frame;
    }

    /** A frame that arrives within the wait, or null. */
    JsonNode poll(Duration wait) throws InterruptedException {
        return frames.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    void send(String text) {
        await(socket.writeTextMessage(text));
    }

    void send(ObjectNode frame) {
        send(frame.toString());
    }

    void sendBinary(byte[] data) {
        await(socket.writeBinaryMessage(Buffer.buffer(data)));
    }

    /** A text message whose bytes are given as they are, valid UTF-8 or not. */
    void sendTextBytes(String start, byte[] rest) {
        await(socket.writeFrame(WebSocketFrame.textFrame(start, false)));
        await(socket.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(rest), true)));
    }

    static ObjectNode chatFrame(String content) {
        return JSON.createObjectNode().put("type", "chat").put("content", content);
    }

    /** Sends a chat frame and reads the turn to its done or error frame. */
    Reply chat(String content, ObjectNode options) {
        ObjectNode frame = chatFrame(content);
        if (options != null) {
            frame.set("options", options);
        }
        send(frame);
        return readTurn();
    }

    /** Reads delta frames up to the done or error frame. */
    Reply readTurn() {
        List<String> deltas = new ArrayList<>();
        while (true) {
            JsonNode frame = next();
            switch (frame.path("type").asText()) {
                case "delta" -> deltas.add(frame.get("text").asText());
                case "done", "error" -> {
                    return new Reply(deltas, frame);
                }
                default -> fail("unexpected frame in a turn: " + frame);
            }
        }
    }

    static ObjectNode options(Object... namesAndValues) {
        ObjectNode options = JSON.createObjectNode();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            options.set((String) namesAndValues[i], JSON.valueToTree(namesAndValues[i + 1]));
        }
        return options;
    }

    /** Waits for the server to close the connection; returns the close code, 1006 when it sent none (RFC 6455 7.1.5). */
    int awaitClose() {
        try {
            Short code = closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            return code == null ? 1006 : code;
        } catch (Exception e) {
            throw new AssertionError("the server did not close the connection: " + e, e);
        }
    }

    boolean isClosed() {
        return closed.isDone();
    }

    @Override
    public void close() {
        if (!closed.isDone()) {
            socket.close();
            try {
                closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                // the test's own assertions say what went wrong
            }
        }
        client.close();
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return JSON.createObjectNode().put("type", "not-json").put("text", text);
        }
    }

    private static void await(io.vertx.core.Future<Void> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("send failed: " + e, e);
        }
    }
}
