package io.resident.ops;

import static io.restassured.RestAssured.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
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
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The drain on SIGTERM, fired the way Quarkus fires it (the pre-shutdown event, HTTP still serving): readiness DOWN,
 * nothing new admitted, a running reply finishes, one that outlasts RESIDENT_DRAIN_TIMEOUT is cancelled. The app
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
            return config;
        }
    }

    @Inject
    ModelHolder holder;

    @Inject
    Event<ShutdownDelayInitiatedEvent> shutdownStarted;

    @Test
    void readinessDownNothingNewAdmittedRunningRepliesFinishTheRestIsCancelledAtTheTimeout() throws Exception {
        ServedModel served = Served.await(holder);
        TokenStream finishing = Served.reply(served, "A short answer, please", 20);
        TokenStream endless = Served.reply(served, "Tell me a long story", Integer.MAX_VALUE);
        assertTrue(finishing.next() instanceof Token && endless.next() instanceof Token, "both replies are under way");

        long started = System.nanoTime();
        CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> shutdownStarted.fire(new ShutdownDelayInitiatedEvent()), Thread::startVirtualThread);
        Served.until(() -> holder.state() == ModelHolder.State.DRAINING, Duration.ofSeconds(10), "no drain began");

        Response ready = get("/q/health/ready");
        assertEquals(503, ready.statusCode(), ready.asString());
        assertEquals("DRAINING", ready.jsonPath().get("checks.find { it.name == 'model' }.data.state"));
        assertEquals(200, get("/q/health/live").statusCode(), "a draining engine is alive");
        EngineBusyException refused = assertThrows(EngineBusyException.class, () -> Served.reply(served, "Hello", 4));
        assertTrue(refused.getMessage().contains("draining"), refused.getMessage());

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
    }
}
