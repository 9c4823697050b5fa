package io.resident.api;

import io.resident.ResidentConfig;
import io.resident.engine.Engine;
import io.resident.engine.EngineBusyException;
import io.resident.engine.GenerationRequest;
import io.resident.engine.TokenStream;
import io.resident.ops.ResidentMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each client address's share of the engine's wait queue: a request counts against its address from its submission
 * until it holds a slot, and past RESIDENT_MAX_WAITING_PER_CLIENT the address is answered busy at once, so that one
 * address cannot fill the whole queue while others still find room in it.
 */
@ApplicationScoped
public class WaitShares {

    /** A slot frees up as soon as one of the address's own requests is admitted. */
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

    private final int share;
    private final ResidentMetrics metrics;
    private final Map<String, Integer> waiting = new ConcurrentHashMap<>();

    WaitShares(ResidentConfig config, ResidentMetrics metrics) {
        this.share = config.maxWaitingPerClient();
        this.metrics = metrics;
    }

    /**
     * {@link Engine#submit} for a client address, refused busy at once while that address has its share waiting.
     *
     * @throws EngineBusyException the address's share is taken, or as {@link Engine#submit} throws it
     */
    public TokenStream submit(Engine engine, GenerationRequest request, String client) throws InterruptedException {
        try {
            if (waiting.merge(client, 1, Integer::sum) > share) {
                metrics.rejected();
                throw new EngineBusyException("this address already has " + share + " requests waiting for a slot, the"
                        + " most one address may (RESIDENT_MAX_WAITING_PER_CLIENT)", RETRY_AFTER);
            }
            return engine.submit(request);
        } finally {
            waiting.computeIfPresent(client, (address, count) -> count == 1 ? null : count - 1);
        }
    }
}
