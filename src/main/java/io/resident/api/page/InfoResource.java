package io.resident.api.page;

import io.resident.ResidentConfig;
import io.resident.engine.Engine;
import io.resident.engine.ModelHolder;
import io.resident.engine.SamplingParams;
import io.resident.engine.ServedModel;
import io.resident.ops.GpuMemorySource;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * GET /api/info: what the chat page's sidebar shows, read afresh on every call (the page polls it): the model, its
 * sampling defaults, the engine's load and the GPU's memory. It answers while the model still loads (state LOADING,
 * no model yet), so that the page can say so. Like every REST endpoint it wants the API key when one is set.
 */
@Path("/api/info")
@Produces(MediaType.APPLICATION_JSON)
public class InfoResource {

    /** Above this share of GPU memory in use the page warns, a little before readiness turns DOWN (0.92 by default). */
    static final double GPU_MEMORY_WARNING = 0.90;
    /** The page's max-tokens control starts here unless the checkpoint's generation_config sets max_new_tokens. */
    static final int DEFAULT_MAX_TOKENS = 1024;

    /**
     * @param state     LOADING, READY, DRAINING or FAILED
     * @param model     null until the model is ready, as are sampling and load
     * @param gpuMemory null on the CPU and until the model is ready
     */
    record Info(String state, Model model, Sampling sampling, Load load, GpuMemory gpuMemory, int memoryWindow) {}

    /** @param demo true for the built-in demo model (random weights): the page says its replies are noise */
    record Model(String id, boolean demo, String family, String device, String dtype, int maxContext, String acceleration) {}

    /** The page's starting values: the checkpoint's temperature (0 where it decodes greedily) and a reply length. */
    record Sampling(double temperature, int maxTokens) {}

    /** The engine's batch slots and the replies running in them or waiting for one. */
    record Load(int slots, int running, int waiting) {}

    /** @param warning whether the ratio is above {@link #GPU_MEMORY_WARNING} */
    record GpuMemory(long usedBytes, long totalBytes, double ratio, boolean warning) {

        static GpuMemory of(GpuMemorySource.Reading reading) {
            return new GpuMemory(reading.used(), reading.total(), reading.ratio(), reading.ratio() > GPU_MEMORY_WARNING);
        }
    }

    private final ModelHolder holder;
    private final GpuMemorySource gpu;
    private final int memoryWindow;

    InfoResource(ModelHolder holder, GpuMemorySource gpu, ResidentConfig config) {
        this.holder = holder;
        this.gpu = gpu;
        this.memoryWindow = config.memoryWindow();
    }

    @GET
    public Info info() {
        ModelHolder.State state = holder.state();
        if (state != ModelHolder.State.READY) {
            return new Info(state.name(), null, null, null, null, memoryWindow);
        }
        ServedModel served = holder.served();
        Engine.Stats stats = served.engine().stats();
        return new Info(state.name(), model(served), sampling(served), new Load(stats.slots(), stats.running(), stats.waiting()),
                gpu.read().map(GpuMemory::of).orElse(null), memoryWindow);
    }

    private static Model model(ServedModel served) {
        return new Model(served.id(), served.demo(), served.family(), served.device(), served.dtype(), served.maxContext(),
                served.acceleration());
    }

    private static Sampling sampling(ServedModel served) {
        int maxNewTokens = served.defaults().maxNewTokens();
        return new Sampling(SamplingParams.builder(served.defaults()).build().temperature(),
                Math.min(served.maxContext(), maxNewTokens > 0 ? maxNewTokens : DEFAULT_MAX_TOKENS));
    }
}
