package io.resident;

import io.resident.model.ModelLoader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/** The settings that are wrong whatever the model: checked at boot, before the model is resolved and the server listens. */
public final class ConfigCheck {

    private ConfigCheck() {}

    /**
     * @param httpPort QUARKUS_HTTP_PORT, when set
     * @return one line per problem, naming the variable and its value; empty when every setting can be used
     */
    public static List<String> problems(ResidentConfig config, OptionalInt httpPort) {
        List<String> problems = new ArrayList<>();
        String device = deviceProblem(config.device());
        if (device != null) {
            problems.add("RESIDENT_DEVICE=" + config.device() + ": " + device);
        }
        try {
            ModelLoader.checkDtypeSetting(config.dtype(), config.device());
        } catch (IllegalArgumentException e) {
            problems.add("RESIDENT_DTYPE=" + config.dtype() + ": " + e.getMessage());
        }
        atLeast(problems, "RESIDENT_MAX_BATCH", config.maxBatch(), 1);
        config.maxContext().ifPresent(context -> atLeast(problems, "RESIDENT_MAX_CONTEXT", context, 1));
        config.prefillChunk().ifPresent(chunk -> atLeast(problems, "RESIDENT_PREFILL_CHUNK", chunk, 1));
        // every running reply decodes a token each step, and a prompt beside them still needs one
        config.maxStepTokens().ifPresent(tokens -> atLeast(problems, "RESIDENT_MAX_STEP_TOKENS", tokens, config.maxBatch()));
        atLeast(problems, "RESIDENT_MAX_WAITING", config.maxWaiting(), 0);
        atLeast(problems, "RESIDENT_MAX_WAITING_PER_CLIENT", config.maxWaitingPerClient(), 1);
        atLeast(problems, "RESIDENT_MEMORY_WINDOW", config.memoryWindow(), 1);
        atLeast(problems, "RESIDENT_MAX_SESSIONS", config.maxSessions(), 1);
        atLeast(problems, "RESIDENT_MAX_CONNECTIONS_PER_CLIENT", config.maxConnectionsPerClient(), 1);
        atLeast(problems, "RESIDENT_MAX_HTTP_CONNECTIONS_PER_CLIENT", config.maxHttpConnectionsPerClient(), 1);
        atLeast(problems, "RESIDENT_MAX_MESSAGE_LENGTH", config.maxMessageLength(), 1);
        atLeast(problems, "RESIDENT_MAX_FRAME_SIZE", config.maxFrameSize().asLongValue(), 1);
        atLeast(problems, "RESIDENT_MAX_REQUEST_BODY", config.maxRequestBody().asLongValue(), 1);
        positive(problems, "RESIDENT_SESSION_IDLE_TIMEOUT", config.sessionIdleTimeout());
        positive(problems, "RESIDENT_SESSION_SWEEP_INTERVAL", config.sessionSweepInterval());
        positive(problems, "RESIDENT_HEADER_TIMEOUT", config.headerTimeout());
        notNegative(problems, "RESIDENT_MAX_WAIT", config.maxWait());
        // a queued streaming request has sent nothing yet: the idle timeout must not cut it while it waits for a slot
        if (config.idleTimeout().compareTo(config.maxWait()) <= 0) {
            problems.add("RESIDENT_IDLE_TIMEOUT=" + config.idleTimeout() + ": must be longer than RESIDENT_MAX_WAIT ("
                    + config.maxWait() + "), or a request still waiting for a slot is cut off");
        }
        notNegative(problems, "RESIDENT_DRAIN_TIMEOUT", config.drainTimeout());
        double threshold = config.readinessVramThreshold();
        if (!(threshold > 0 && threshold <= 1)) {
            problems.add("RESIDENT_READINESS_VRAM_THRESHOLD=" + threshold + ": a share of GPU memory, above 0 and at most 1");
        }
        httpPort.ifPresent(port -> {
            if (port < 0 || port > 65535) {
                problems.add("QUARKUS_HTTP_PORT=" + port + ": a TCP port is 0 to 65535");
            }
        });
        return problems;
    }

    /** Why the name is no device, or null; whether the GPU it names exists only libtorch can tell, once loaded. */
    private static String deviceProblem(String requested) {
        return requested.strip().toLowerCase(Locale.ROOT).matches("auto|cpu|cuda(:\\d{1,4})?")
                ? null : "not one of auto, cpu, cuda, cuda:N";
    }

    private static void atLeast(List<String> problems, String name, long value, long least) {
        if (value < least) {
            problems.add(name + "=" + value + ": must be at least " + least);
        }
    }

    private static void positive(List<String> problems, String name, Duration value) {
        if (value.isNegative() || value.isZero()) {
            problems.add(name + "=" + value + ": must be longer than 0");
        }
    }

    private static void notNegative(List<String> problems, String name, Duration value) {
        if (value.isNegative()) {
            problems.add(name + "=" + value + ": must not be negative");
        }
    }
}
