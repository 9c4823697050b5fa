package io.resident.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.RawClient;
import io.resident.attack.ServiceDefaults;
import io.resident.engine.Engine;
import io.resident.engine.ModelHolder;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/**
 * REST clients that hang up while queued for a slot leave the queue at once: 64 of them no longer hold the queue
 * full (every newcomer answered 503) until RESIDENT_MAX_WAIT (30 s) runs out. And one address no longer fills the
 * whole queue: past its share (RESIDENT_MAX_WAITING_PER_CLIENT, 16) it is answered 503 at once while others queue.
 */
@QuarkusTest
@TestProfile(ServiceDefaults.class)
class QueuedDepartureTest {

    /** Long enough that only a cancel ends the reply within the test. */
    private static final String LONG_REPLY = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story.\"}],"
            + "\"max_tokens\":4000,\"temperature\":0,\"stream\":true}";
    /** Well under RESIDENT_MAX_WAIT, after which a departed client would leave anyway. */
    private static final Duration PROMPTLY = Duration.ofSeconds(10);
    /** The queued clients' own loopback addresses, each within its share of the queue. */
    private static final List<String> QUEUERS = List.of("127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9");
    /** RESIDENT_MAX_WAITING_PER_CLIENT's default. */
    private static final int SHARE = 16;

    @Inject
    ModelHolder holder;

    @TestHTTPResource("/")
    URL base;

    @Test
    void clientsThatHangUpWhileQueuedLeaveTheQueueAtOnce() throws Exception {
        Engine engine = Ready.await(holder).engine();
        assertTrue(Ready.idle(holder, Duration.ofSeconds(30)), "a reply of another test still runs");
        List<RawClient> running = new ArrayList<>();
        List<RawClient> queued = new ArrayList<>();
        try {
            for (int i = 0; i < engine.slots(); i++) {
                running.add(request(null));
            }
            awaitCount(() -> engine.stats().running(), engine.slots(), "running");
            for (int i = 0; i < 64; i++) {
                queued.add(request(QUEUERS.get(i / SHARE)));
            }
            awaitCount(() -> engine.stats().waiting(), 64, "waiting");

            for (RawClient client : queued) {
                client.close();
            }
            awaitCount(() -> engine.stats().waiting(), 0, "waiting after 64 clients hung up");
            assertEquals(engine.slots(), engine.stats().running(), "a departed client took a slot");

            try (RawClient newcomer = request(null)) {
                awaitCount(() -> engine.stats().waiting(), 1, "waiting: the newcomer queues, it is not turned away");
            }
            awaitCount(() -> engine.stats().waiting(), 0, "waiting after the newcomer hung up");
        } finally {
            for (RawClient client : running) {
                client.close();
            }
        }
        assertTrue(Ready.idle(holder, PROMPTLY), "the slots are still held after their clients hung up");
    }

    @Test
    void oneAddressQueuesOnlyItsShareAndOthersStillQueue() throws Exception {
        Engine engine = Ready.await(holder).engine();
        assertTrue(Ready.idle(holder, Duration.ofSeconds(30)), "a reply of another test still runs");
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < engine.slots(); i++) {
                clients.add(request(null));
            }
            awaitCount(() -> engine.stats().running(), engine.slots(), "running");
            for (int i = 0; i < SHARE; i++) {
                clients.add(request(QUEUERS.get(0)));
            }
            awaitCount(() -> engine.stats().waiting(), SHARE, "waiting");

            try (RawClient oneTooMany = request(QUEUERS.get(0))) {
                String head = oneTooMany.readHead();
                assertTrue(head.startsWith("HTTP/1.1 503"), head);
                JsonNode error = new ObjectMapper().readTree(oneTooMany.readBody(head)).path("error");
                assertEquals("server_overloaded", error.path("code").asText(), error.toString());
                assertTrue(error.path("message").asText().contains("RESIDENT_MAX_WAITING_PER_CLIENT"), error.toString());
            }
            clients.add(request(QUEUERS.get(1)));
            awaitCount(() -> engine.stats().waiting(), SHARE + 1, "waiting: another address still queues");
        } finally {
            for (RawClient client : clients) {
                client.close();
            }
        }
        assertTrue(Ready.idle(holder, PROMPTLY), "the slots are still held after their clients hung up");
    }

    private RawClient request(String from) throws IOException {
        RawClient client = RawClient.connect("127.0.0.1", base.getPort(), from);
        client.post(base.getHost(), "/v1/chat/completions", "application/json", LONG_REPLY);
        return client;
    }

    private static void awaitCount(IntSupplier count, int expected, String what) throws InterruptedException {
        long deadline = System.nanoTime() + PROMPTLY.toNanos();
        while (count.getAsInt() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(expected, count.getAsInt(), what);
    }
}
