package io.resident.chat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.resident.ResidentConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Every chat session the server holds, by id. A session lives while a connection owns it and for
 * RESIDENT_SESSION_IDLE_TIMEOUT after its last connection and activity; a scheduled sweep removes it then, memory
 * and all. At most RESIDENT_MAX_SESSIONS are held: a new one displaces the longest-idle session without a
 * connection, and is refused when every session has one. Each client address has its own share first
 * ({@link ClientShares}): at its share, its own longest-idle session makes way, and its new sessions a minute are
 * bounded, so that one client's churn never displaces another's sessions.
 */
@ApplicationScoped
public class ChatSessions {

    private static final Logger LOG = Logger.getLogger(ChatSessions.class);

    /**
     * A session given to a connection.
     *
     * @param resumed       whether it is the session the client asked for, memory and all
     * @param previousOwner the connection that owned it until now (the client reconnected before the old
     *                      connection was noticed gone), or null
     */
    public record Opened(ChatSession session, boolean resumed, String previousOwner) {}

    private final Map<String, ChatSession> sessions = new ConcurrentHashMap<>();
    private final int window;
    private final int maxSessions;
    private final long idleTimeoutNanos;
    private final ClientShares shares;

    ChatSessions(ResidentConfig config, MeterRegistry registry) {
        this.window = config.memoryWindow();
        this.maxSessions = config.maxSessions();
        this.idleTimeoutNanos = config.sessionIdleTimeout().toNanos();
        this.shares = new ClientShares(config.maxSessionsPerClient(), config.newSessionsPerClientPerMinute());
        if (window < 1 || maxSessions < 1) {
            throw new IllegalArgumentException("RESIDENT_MEMORY_WINDOW and RESIDENT_MAX_SESSIONS must be at least 1, were "
                    + window + " and " + maxSessions);
        }
        Gauge.builder("resident.sessions.active", sessions, Map::size)
                .description("Chat sessions held: with an open connection or within their idle timeout").register(registry);
    }

    /**
     * Gives a connection the session it asks to resume, or a new one when it asks for none or for one no longer held.
     *
     * @param requestedId  the session id the client sent, or null
     * @param connectionId the connection that will own the session
     * @param client       the client's address, whose share a new session counts against
     * @throws SessionLimitException the client's share or RESIDENT_MAX_SESSIONS are held and every one of those
     *                               sessions has a connection, or the client opened too many sessions within a minute
     */
    public synchronized Opened open(String requestedId, String connectionId, String client) {
        long now = System.nanoTime();
        ChatSession held = requestedId == null ? null : sessions.get(requestedId);
        if (held != null) {
            return new Opened(held, true, held.attach(connectionId, now));
        }
        Collection<String> own = shares.admit(client, now);
        if (own != null) {
            remove(idlest(own.stream().map(sessions::get), now).orElseThrow(shares::full), now, "its client's share");
        }
        if (sessions.size() >= maxSessions) {
            remove(idlest(sessions.values().stream(), now).orElseThrow(() -> new SessionLimitException("all "
                    + maxSessions + " chat sessions are in use by open connections; try again later")), now, "the limit");
        }
        // 122 random bits: the id is what entitles a client to the memory
        ChatSession created = new ChatSession(UUID.randomUUID().toString(), window, now);
        created.attach(connectionId, now);
        sessions.put(created.id(), created);
        shares.added(created.id(), client);
        return new Opened(created, false, null);
    }

    /** The connection closed: its session starts to idle (unless another connection has resumed it since). */
    public void release(ChatSession session, String connectionId) {
        session.detach(connectionId, System.nanoTime());
    }

    public Optional<ChatSession> find(String id) {
        return Optional.ofNullable(sessions.get(id));
    }

    /** Sessions held now. */
    public int size() {
        return sessions.size();
    }

    @Scheduled(every = "${resident.session-sweep-interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        int removed = removeIdle(System.nanoTime());
        if (removed > 0) {
            LOG.debugf("Removed %d idle chat sessions; %d held", removed, sessions.size());
        }
    }

    /** Removes the sessions idle for longer than the timeout; returns how many. */
    synchronized int removeIdle(long nowNanos) {
        List<String> idle = sessions.values().stream().filter(s -> s.idleNanos(nowNanos) > idleTimeoutNanos)
                .map(ChatSession::id).toList();
        idle.forEach(id -> {
            sessions.remove(id);
            shares.removed(id);
        });
        shares.forgetIdle(nowNanos);
        return idle.size();
    }

    /** The longest-idle session without a connection among these. */
    private static Optional<ChatSession> idlest(Stream<ChatSession> among, long now) {
        return among.filter(s -> !s.owned()).max(Comparator.comparingLong(s -> s.idleNanos(now)));
    }

    private void remove(ChatSession displaced, long now, String reason) {
        sessions.remove(displaced.id());
        shares.removed(displaced.id());
        LOG.debugf("At %s: displaced session %s, idle for %s", reason, displaced.id(),
                Duration.ofNanos(displaced.idleNanos(now)));
    }
}
