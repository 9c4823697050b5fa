package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.resident.ResidentConfigTest;
import io.resident.hub.HubSettings;
import io.resident.hub.ModelResolver;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A service told to stop while its model loads (a pod deleted during startup, or one test's application ending
 * before its model is up) never frees the model under the loader: the loader lets it go when it is done with it.
 */
class ModelHolderStopTest {

    @Test
    void aStopWhileTheModelWarmsUpLetsItGoOnlyOnceTheLoaderIsDone() throws Exception {
        CountDownLatch warmingUp = new CountDownLatch(1), release = new CountDownLatch(1);
        List<String> events = new CopyOnWriteArrayList<>();
        EngineMetrics heldInWarmUp = new EngineMetrics() {
            @Override
            public void prefilled(int promptTokens) {
                warmingUp.countDown();
                PreemptionTest.await(release); // the engine thread stops between the warm-up's steps until the test lets it on
            }

            @Override
            public void finished(FinishReason reason, Duration duration) {
                events.add("finished " + reason);
            }

            @Override
            public void failed(Throwable cause) {
                events.add("failed " + cause);
            }
        };
        ModelHolder holder = demo(heldInWarmUp);
        holder.startLoading();
        assertTrue(warmingUp.await(2, TimeUnit.MINUTES), "the warm-up began");

        holder.onStop(null);
        assertEquals(ModelHolder.State.LOADING, holder.state(), "the stop left the model to the loader");
        release.countDown();
        awaitState(holder, ModelHolder.State.STOPPED);
        assertEquals(List.of("finished LENGTH"), events, "the warm-up ran on a model nobody had let go");
        assertEquals(Engine.State.STOPPED, holder.served().engine().health().state(), "the loader closed the engine it made");
    }

    @Test
    void aStopAfterLoadingLetsTheModelGoAtOnce() throws Exception {
        ModelHolder holder = demo(EngineMetrics.NONE);
        holder.startLoading();
        awaitState(holder, ModelHolder.State.READY);
        Engine engine = holder.served().engine();

        holder.onStop(null);
        assertEquals(ModelHolder.State.STOPPED, holder.state());
        assertEquals(Engine.State.STOPPED, engine.health().state());
    }

    /** The demo model on the CPU with a short context, resolved offline. */
    private static ModelHolder demo(EngineMetrics metrics) throws Exception {
        Path cache = Files.createTempDirectory("resident-hub");
        cache.toFile().deleteOnExit();
        ModelResolver resolver = new ModelResolver(new HubSettings(cache, URI.create("http://127.0.0.1:9"), Optional.empty(), true),
                new SimpleMeterRegistry());
        return new ModelHolder(ResidentConfigTest.read(Map.of("RESIDENT_DEVICE", "cpu", "RESIDENT_MAX_CONTEXT", "256")), resolver, metrics);
    }

    private static void awaitState(ModelHolder holder, ModelHolder.State state) throws InterruptedException {
        AdmissionTest.awaitUntil(Duration.ofMinutes(2), () -> holder.state() == state, () -> "never " + state + ", still " + holder.state());
    }
}
