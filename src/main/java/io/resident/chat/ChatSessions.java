package io.resident.chat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
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
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The chat sessions this instance serves, by id, over the {@link SessionStore}. In memory, a session lives while a
 * connection owns it and for RESIDENT_SESSION_IDLE_TIMEOUT after its last connection and activity; a scheduled sweep
 * removes it then, memory and all; at most RESIDENT_MAX_SESSIONS are held: a new one displaces the longest-idle
 * session without a connection, and is refused when every session has one. In a shared store (Redis) every replica
 * resumes every session, the store expires idle ones, and this instance holds only the sessions its connections own
 * (the sweep keeps their TTL from running out while they are open). Each client address has its own share first
 * ({@link ClientShares}): at its share, its own longest-idle session makes way, and its new sessions a minute are
 * bounded, so that one client's churn never displaces another's sessions.
 */
// made at startup, so its gauge is in /q/metrics before the first session or sweep
@Startup
@ApplicationScoped
public class ChatSessions {

    private static final Logger LOG = Logger.getLogger(ChatSessions.class);

    /**
     * A session given to a connection.
     *
     * @param resumed       whether it is the session the client asked for, memory and all
     * @param previousOwner the connection of this instance that owned it until now (the client reconnected before the
     *                      old connection was noticed gone), or null
     */
    public record Opened(ChatSession session, boolean resumed, String previousOwner) {}

    private final Map<String, ChatSession> sessions = new ConcurrentHashMap<>();
    private final SessionStore store;
    private final int window;
    private final int maxSessions;
    private final long idleTimeoutNanos;
    private final ClientShares shares;
    private volatile Consumer<String> takenElsewhere = connection -> {};

    ChatSessions(ResidentConfig config, MeterRegistry registry, SessionStore store) {
        this.store = store;
        this.window = config.memoryWindow();
        this.maxSessions = config.maxSessions();
        this.idleTimeoutNanos = config.sessionIdleTimeout().toNanos();
        this.shares = new ClientShares(config.maxSessionsPerClient(), config.newSessionsPerClientPerMinute());
        if (window < 1 || maxSessions < 1) {
            throw new IllegalArgumentException("RESIDENT_MEMORY_WINDOW and RESIDENT_MAX_SESSIONS must be at least 1, were "
                    + window + " and " + maxSessions);
        }
        store.onOpenedElsewhere(this::openedElsewhere);
        Gauge.builder("resident.sessions.active", sessions, Map::size)
                .description("Chat sessions this instance holds: with an open connection, or (in memory) within their idle timeout")
                .register(registry);
    }

    /**
     * Gives a connection the session it asks to resume, or a new one when it asks for none or for one no longer held.
     *
     * @param requestedId  the session id the client sent, or null
     * @param connectionId the connection that will own the session
     * @param client       the client's address, whose share a new session counts against
     * @throws SessionLimitException            the client's share or RESIDENT_MAX_SESSIONS are held and every one of
     *                                          those sessions has a connection, or the client opened too many sessions
     *                                          within a minute
     * @throws SessionStoreUnavailableException the store cannot be reached
     */
    public Opened open(String requestedId, String connectionId, String client) {
        boolean stored = requestedId != null && store.shared() && !sessions.containsKey(requestedId) && store.exists(requestedId);
        Opened opened = attach(requestedId, stored, connectionId, client);
        store.touch(opened.session().id());
        if (opened.resumed()) {
            store.announceOpened(opened.session().id());
        }
        return opened;
    }

    private synchronized Opened attach(String requestedId, boolean stored, String connectionId, String client) {
        long now = System.nanoTime();
        ChatSession held = requestedId == null ? null : sessions.get(requestedId);
        if (held == null && stored) {
            held = new ChatSession(requestedId, window, store, now);
            sessions.put(requestedId, held);
        }
        if (held != null) {
            return new Opened(held, true, held.attach(connectionId, now));
        }
        Collection<String> own = shares.admit(client, now);
        if (own != null) {
            remove(idlest(own.stream().map(sessions::get), now).orElseThrow(shares::full), now, "its client's share");
        }
        if (!store.shared() && sessions.size() >= maxSessions) {
            remove(idlest(sessions.values().stream(), now).orElseThrow(() -> new SessionLimitException("all "
                    + maxSessions + " chat sessions are in use by open connections; try again later")), now, "the limit");
        }
        // 122 random bits: the id is what entitles a client to the memory
        ChatSession created = new ChatSession(UUID.randomUUID().toString(), window, store, now);
        created.attach(connectionId, now);
        sessions.put(created.id(), created);
        shares.added(created.id(), client);
        return new Opened(created, false, null);
    }

    /** The connection closed: its session starts to idle (unless another connection has resumed it since). */
    public void release(ChatSession session, String connectionId) {
        synchronized (this) {
            session.detach(connectionId, System.nanoTime());
            if (!store.shared() || session.owned()) {
                return;
            }
            if (sessions.remove(session.id(), session)) {
                shares.removed(session.id());
            }
        }
        try {
            store.touch(session.id());
        } catch (SessionStoreUnavailableException e) {
            LOG.debugf("Session %s: its idle timeout runs from its last write: %s", session.id(), e.getMessage());
        }
    }

    /** What runs, with the connection's id, when a connection of another instance opens a session one of ours owns. */
    public void onTakenElsewhere(Consumer<String> connectionIds) {
        takenElsewhere = connectionIds;
    }

    public Optional<ChatSession> find(String id) {
        return Optional.ofNullable(sessions.get(id));
    }

    /** Sessions held now. */
    public int size() {
        return sessions.size();
    }

    // not while the application starts or stops: a failed start must end on its one reason, not on a sweep of a stopped container
    @Scheduled(every = "${resident.session-sweep-interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = Scheduled.ApplicationNotRunning.class)
    void sweep() {
        if (store.shared()) {
            keepOpenSessionsAlive();
            return;
        }
        int removed = removeIdle(System.nanoTime());
        if (removed > 0) {
            LOG.debugf("Removed %d idle chat sessions; %d held", removed, sessions.size());
        }
    }

    /** Removes the sessions idle for longer than the timeout; returns how many. */
    synchronized int removeIdle(long nowNanos) {
        List<ChatSession> idle = sessions.values().stream().filter(s -> s.idleNanos(nowNanos) > idleTimeoutNanos).toList();
        idle.forEach(this::remove);
        shares.forgetIdle(nowNanos);
        return idle.size();
    }

    /** The store's TTL would expire a session whose connection stays open but quiet: its clock restarts here. */
    private void keepOpenSessionsAlive() {
        try {
            store.check();
            sessions.keySet().forEach(store::touch);
        } catch (SessionStoreUnavailableException e) {
            LOG.debugf("Open sessions not kept alive: %s", e.getMessage());
        }
    }

    private void openedElsewhere(String id) {
        ChatSession held = sessions.get(id);
        String owner;
        synchronized (this) {
            owner = held == null ? null : held.takenElsewhere(System.nanoTime());
            if (held != null && sessions.remove(id, held)) {
                shares.removed(id);
            }
        }
        if (owner != null) {
            LOG.debugf("Session %s was opened on another instance: closing connection %s", id, owner);
            takenElsewhere.accept(owner);
        }
    }

    private void remove(ChatSession session) {
        sessions.remove(session.id());
        shares.removed(session.id());
        store.remove(session.id());
    }

    /** The longest-idle session without a connection among these. */
    private static Optional<ChatSession> idlest(Stream<ChatSession> among, long now) {
        return among.filter(s -> s != null && !s.owned()).max(Comparator.comparingLong(s -> s.idleNanos(now)));
    }

    private void remove(ChatSession displaced, long now, String reason) {
        remove(displaced);
        LOG.debugf("At %s: displaced session %s, idle for %s", reason, displaced.id(),
                Duration.ofNanos(displaced.idleNanos(now)));
    }
}
