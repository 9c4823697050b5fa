package io.resident.ops;

import static io.restassured.RestAssured.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.engine.EngineBusyException;
import io.resident.engine.FinishReason;
import io.resident.engine.Generation;
import io.resident.engine.GenerationEvent.Token;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import io.restassured.response.Response;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The drain on SIGTERM, fired the way Quarkus fires it (the pre-shutdown event, HTTP still serving): readiness DOWN,
 * nothing new admitted, a running reply finishes, one that outlasts RESIDENT_DRAIN_TIMEOUT is cancelled, and a chat
 * WebSocket gets its reply's done frame, then a close frame (1001, going away), and a new one gets busy and 1001 at
 * once. The app
 * stays drained afterwards, so this test has a profile of its own.
 */
@QuarkusTest
@TestProfile(DrainTest.Profile.class)
class DrainTest {

    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(3);

    public static class Profile extends DemoEngineProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(super.getConfigOverrides());
            config.put("resident.drain-timeout", DRAIN_TIMEOUT.toSeconds() + "s");
            config.put("resident.max-batch", "3");
            return config;
        }
    }

    @Inject
    ModelHolder holder;

    @Inject
    Event<ShutdownDelayInitiatedEvent> shutdownStarted;

    @TestHTTPResource("/ws/chat")
    URI chatEndpoint;

    @Test
    void readinessDownNothingNewAdmittedRunningRepliesFinishTheRestIsCancelledAtTheTimeout() throws Exception {
        ServedModel served = Served.await(holder);
        TokenStream finishing = Served.reply(served, "A short answer, please", 20);
        TokenStream endless = Served.reply(served, "Tell me a long story", Integer.MAX_VALUE);
        assertTrue(finishing.next() instanceof Token && endless.next() instanceof Token, "both replies are under way");
        ChatFrames chat = new ChatFrames();
        WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(chatEndpoint.toString().replaceFirst("^http", "ws")), chat).get(30, TimeUnit.SECONDS);
        assertEquals("session", chat.next().path("type").asText());
        socket.sendText("{\"type\":\"chat\",\"content\":\"Tell me a long story\",\"options\":{\"max_tokens\":3000,\"temperature\":0}}", true);
        assertEquals("delta", chat.next().path("type").asText(), "the chat reply is under way");

        long started = System.nanoTime();
        CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> shutdownStarted.fire(new ShutdownDelayInitiatedEvent()), Thread::startVirtualThread);
        Served.until(() -> holder.state() == ModelHolder.State.DRAINING, Duration.ofSeconds(10), "no drain began");

        Response ready = get("/q/health/ready");
        assertEquals(503, ready.statusCode(), ready.asString());
        assertEquals("DRAINING", ready.jsonPath().get("checks.find { it.name == 'model' }.data.state"));
        assertEquals(200, get("/q/health/live").statusCode(), "a draining engine is alive");
        EngineBusyException refused = assertThrows(EngineBusyException.class, () -> Served.reply(served, "Hello", 4));
        assertTrue(refused.getMessage().contains("draining"), refused.getMessage());
        ChatFrames late = new ChatFrames();
        HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(chatEndpoint.toString().replaceFirst("^http", "ws")), late).get(30, TimeUnit.SECONDS);
        JsonNode busy = late.next();
        assertEquals("busy", busy.path("code").asText(), busy.toString());
        assertEquals(1001, late.closeCode.get(30, TimeUnit.SECONDS), "a new chat connection goes away at once, no session");

        Generation finished = finishing.collect();
        assertEquals(FinishReason.LENGTH, finished.done().reason(), "the running reply ran to its end");
        assertEquals(20, finished.done().completionTokens());
        assertEquals(FinishReason.CANCELLED, endless.collect().done().reason(), "the endless one is cut at the timeout");
        drain.get(1, TimeUnit.MINUTES);
        long took = System.nanoTime() - started;
        assertTrue(took >= DRAIN_TIMEOUT.toNanos() && took < DRAIN_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(10),
                "the drain took " + took / 1_000_000 + " ms");
        assertEquals(0, served.engine().stats().running());
        assertEquals(503, get("/q/health/ready").statusCode(), "a drained app stays out of rotation");

        // the chat connection got its reply's end, cut at the drain timeout, then a close frame: going away
        JsonNode end = chat.next();
        while (end.path("type").asText().equals("delta")) {
            end = chat.next();
        }
        assertEquals("done", end.path("type").asText(), end.toString());
        assertEquals("cancelled", end.path("finishReason").asText(), end.toString());
        assertEquals(1001, chat.closeCode.get(30, TimeUnit.SECONDS));
    }

    /** A java.net.http WebSocket listener that queues the chat's JSON frames and notes the close code. */
    private static final class ChatFrames implements WebSocket.Listener {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
        private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    frames.add(JSON.readTree(partial.toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            closeCode.complete(statusCode);
            return null;
        }

        JsonNode next() throws InterruptedException {
            JsonNode frame = frames.poll(30, TimeUnit.SECONDS);
            assertTrue(frame != null, "no frame within 30 s");
            return frame;
        }
    }
}
