package io.resident;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Every setting of the service; each key is also an environment variable (resident.max-batch = RESIDENT_MAX_BATCH). */
@ConfigMapping(prefix = "resident")
public interface ResidentConfig {

    /** A model directory or a Hugging Face id (org/name[@revision]); unset or "demo" serves the built-in demo model. */
    Optional<String> model();

    /** auto, cpu, cuda or cuda:N. */
    @WithDefault("auto")
    String device();

    /** auto, float32 or float16 (bfloat16 is refused); auto is float32 on the CPU, on a GPU float16 unless the checkpoint is float32. */
    @WithDefault("auto")
    String dtype();

    /** Longest sequence (prompt + reply) a session may reach; unset means the model's own limit. */
    OptionalInt maxContext();

    /** Sequences decoded together in one step: the engine's batch slots; KV-cache blocks are taken as they fill. */
    @WithDefault("8")
    int maxBatch();

    /** Whether full KV-cache blocks stay cached and are reused by prompts that start with the same tokens. */
    @WithDefault("true")
    boolean prefixCache();

    /** Messages a chat session keeps (a langchain4j message window); the system prompt is kept apart. */
    @WithDefault("20")
    int memoryWindow();

    /** A session with no open connection and no activity for this long is removed with its memory. */
    @WithDefault("30m")
    Duration sessionIdleTimeout();

    /** How often sessions past their idle timeout are looked for and removed. */
    @WithDefault("1m")
    Duration sessionSweepInterval();

    /** Where chat sessions live: {@code memory} (this instance alone) or {@code redis} (every replica, at QUARKUS_REDIS_HOSTS). */
    @WithDefault("memory")
    SessionStoreKind sessionStore();

    /** The session stores RESIDENT_SESSION_STORE names. */
    enum SessionStoreKind {
        MEMORY, REDIS
    }

    /** Chat sessions held at once; when full, a new one displaces the longest-idle session without a connection. */
    @WithDefault("1000")
    int maxSessions();

    /** Open chat WebSocket connections from one client address. */
    @WithDefault("32")
    int maxConnectionsPerClient();

    /** Chat sessions one client address may hold; at its share, a new one displaces that address's longest-idle one. */
    @WithDefault("100")
    int maxSessionsPerClient();

    /** New chat sessions one client address may open per minute (a burst of as many, refilled evenly). */
    @WithDefault("60")
    int newSessionsPerClientPerMinute();

    /**
     * permessage-deflate on the chat WebSocket. Off: a compressed message is inflated whole before any size cap
     * applies, so a small frame can cost hundreds of MB; turn it on only for trusted clients.
     */
    @WithName("ws-compression")
    @WithDefault("false")
    boolean wsCompression();

    /** Web page origins (scheme://host[:port]) besides the service's own that may open the chat WebSocket. */
    Optional<List<String>> allowedOrigins();

    /**
     * An HTTP connection with nothing read or written this long is closed (an idle keep-alive, a request whose headers
     * stall), and a chat WebSocket that answers no ping this long; longer than RESIDENT_MAX_WAIT (checked at boot) and the longest
     * reply that is not streamed.
     */
    @WithDefault("5m")
    Duration idleTimeout();

    /** Open HTTP connections (WebSockets included) from one client address, counted from the moment they are accepted. */
    @WithDefault("64")
    int maxHttpConnectionsPerClient();

    /** A new HTTP connection that has not sent its first request's headers this long after it opened is closed. */
    @WithDefault("10s")
    Duration headerTimeout();

    /** The largest client WebSocket message; up to 4x this is read and refused with an error, beyond the connection closes. */
    @WithDefault("512K")
    MemorySize maxFrameSize();

    /** The longest chat or system message, in characters (Unicode code points). */
    @WithDefault("65536")
    int maxMessageLength();

    /** Readiness turns DOWN when GPU memory used / total passes this ratio. */
    @WithName("readiness-vram-threshold")
    @WithDefault("0.92")
    double readinessVramThreshold();

    /** When set, every API call and WebSocket must present it as a bearer token. */
    Optional<String> apiKey();

    /** Requests that may wait for a free batch slot; one more is answered busy at once. */
    @WithDefault("64")
    int maxWaiting();

    /**
     * Requests one client address may have waiting for a slot at once (a quarter of RESIDENT_MAX_WAITING by default);
     * one more is answered busy at once while other addresses still queue.
     */
    @WithDefault("16")
    int maxWaitingPerClient();

    /** The longest a request waits for a batch slot before it is answered busy. */
    @WithDefault("30s")
    Duration maxWait();

    /**
     * The most prompt tokens prefilled in one engine step, within RESIDENT_MAX_STEP_TOKENS; unset, 2048 on a GPU and
     * 256 on the CPU.
     */
    OptionalInt prefillChunk();

    /**
     * The most tokens of one engine step: a decode token of every running reply first, then prompt chunks in what is
     * left, so running replies wait at most one such step per token; unset, 512 on a GPU and 256 on the CPU (at least
     * twice RESIDENT_MAX_BATCH). At least RESIDENT_MAX_BATCH.
     */
    OptionalInt maxStepTokens();

    /** On shutdown, how long running replies may take to finish before they are cancelled. */
    @WithDefault("30s")
    Duration drainTimeout();

    /** The largest request body the REST API reads (Quarkus's own limit follows it); a larger one is answered 413. */
    @WithDefault("10M")
    MemorySize maxRequestBody();
}
