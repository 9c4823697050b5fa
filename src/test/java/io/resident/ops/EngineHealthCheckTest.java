package io.resident.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.Engine;
import io.resident.engine.EngineMetrics;
import io.resident.engine.EngineOptions;
import io.resident.engine.ForwardingModel;
import io.resident.engine.GenerationEvent;
import io.resident.engine.GenerationRequest;
import io.resident.engine.ModelHolder;
import io.resident.engine.SamplingParams;
import io.resident.engine.TestModel;
import io.resident.engine.TokenStream;
import java.util.List;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponse.Status;
import org.junit.jupiter.api.Test;

/** The "engine" check as the probes see it, on a real engine: while loading, running, draining and dead. */
class EngineHealthCheckTest {

    @Test
    void liveWhileLoadingButNotReady() {
        assertEquals(Status.UP, EngineHealthCheck.check(ModelHolder.State.LOADING, null, false).getStatus());
        assertEquals(Status.DOWN, EngineHealthCheck.check(ModelHolder.State.LOADING, null, true).getStatus());
        assertEquals(Status.DOWN, EngineHealthCheck.check(ModelHolder.State.FAILED, null, false).getStatus());
    }

    @Test
    void upWhileRunningAndAfterAFailedStepLiveButNotReadyWhileDrainingDownOnceDead() throws Exception {
        try (TestModel test = TestModel.load("qwen2-tiny", 1, 256)) {
            ForwardingModel failing = new ForwardingModel(test.model()) {
                @Override
                protected void beforeStep(List<Segment> segments) {
                    if (segments.get(0).tokens()[0] == 13) {
                        throw new IllegalStateException("CUDA error: out of memory");
                    }
                    if (segments.get(0).tokens()[0] == 17) {
                        throw new InternalError("CUDA error: an illegal memory access was encountered");
                    }
                }
            };
            try (Engine engine = new Engine(failing, test.tokenizer(), EngineOptions.defaults(), EngineMetrics.NONE)) {
                engine.generate(new GenerationRequest(new int[] {5, 6, 7}, SamplingParams.greedy(4)));
                assertEquals(Status.UP, EngineHealthCheck.check(ModelHolder.State.READY, engine, false).getStatus());
                assertEquals(Status.UP, EngineHealthCheck.check(ModelHolder.State.READY, engine, true).getStatus());

                TokenStream failed = engine.submit(new GenerationRequest(new int[] {13, 6, 7}, SamplingParams.greedy(4)));
                assertTrue(failed.next() instanceof GenerationEvent.Error);
                assertEquals(Status.UP, EngineHealthCheck.check(ModelHolder.State.READY, engine, false).getStatus(),
                        "a failed step fails its requests, not the engine");
                assertEquals(4, engine.generate(new GenerationRequest(new int[] {5, 6, 7}, SamplingParams.greedy(4)))
                        .done().completionTokens(), "the engine serves on");

                TokenStream doomed = engine.submit(new GenerationRequest(new int[] {17, 6, 7}, SamplingParams.greedy(4)));
                assertTrue(doomed.next() instanceof GenerationEvent.Error);
                HealthCheckResponse live = EngineHealthCheck.check(ModelHolder.State.READY, engine, false);
                assertEquals(Status.DOWN, live.getStatus(), "a dead engine fails liveness, so the pod restarts");
                assertEquals("DEAD", live.getData().orElseThrow().get("state"));
                assertTrue(live.getData().orElseThrow().get("failure").toString().contains("illegal memory access"));
            }
        }
        try (TestModel test = TestModel.load("qwen2-tiny", 1, 256);
                Engine engine = test.engine(EngineOptions.defaults())) {
            engine.drain(java.time.Duration.ZERO);
            assertEquals(Status.UP, EngineHealthCheck.check(ModelHolder.State.DRAINING, engine, false).getStatus());
            assertEquals(Status.DOWN, EngineHealthCheck.check(ModelHolder.State.DRAINING, engine, true).getStatus());
        }
    }
}
