package io.resident.api.ws;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.HandshakeRequest;
import io.quarkus.websockets.next.OnBinaryMessage;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnError;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnPongMessage;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.websockets.next.WebSocketConnection;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import io.resident.ResidentConfig;
import io.resident.api.ApiKey;
import io.resident.api.WaitShares;
import io.resident.api.ws.ServerFrames.Code;
import io.resident.chat.ChatSessions;
import io.resident.chat.SessionLimitException;
import io.resident.chat.SessionStoreUnavailableException;
import io.resident.engine.ModelHolder;
import io.resident.engine.ModelNotReadyException;
import io.resident.engine.ServedModel;
import io.resident.ops.ResidentMetrics;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The chat protocol at /ws/chat: JSON text frames, one session per connection ({@code ?session=<id>} resumes one
 * still held), replies streamed as delta frames. See the README's WebSocket section for the frames.
 *
 * <p>Opening, in order: the API key (an {@code Authorization: Bearer} header, or {@code ?api_key=} since browsers
 * cannot set headers on a WebSocket), the connections of the client's address, a session. A refusal is an error
 * frame followed by a close.
 */
@WebSocket(path = "/ws/chat")
public class ChatSocket {

    private static final Logger LOG = Logger.getLogger(ChatSocket.class);
    /** RFC 6455 close codes. */
    private static final int GOING_AWAY = 1001;
    private static final int POLICY_VIOLATION = 1008;
    private static final int MESSAGE_TOO_BIG = 1009;
    private static final int TRY_AGAIN_LATER = 1013;

    private final ModelHolder holder;
    private final ChatSessions sessions;
    private final ApiKey apiKey;
    private final ResidentMetrics metrics;
    private final WaitShares shares;
    private final ChatConnection.Limits limits;
    private final int maxConnectionsPerClient;
    private final int transportCap;
    private final boolean behindProxy;
    private final Duration idleTimeout;
    private final Map<String, ChatConnection> open = new ConcurrentHashMap<>();
    private final Map<String, Integer> perClient = new ConcurrentHashMap<>();

    ChatSocket(ModelHolder holder, ChatSessions sessions, ApiKey apiKey, ResidentMetrics metrics, WaitShares shares,
            ResidentConfig config, Vertx vertx,
            @ConfigProperty(name = "quarkus.http.proxy.proxy-address-forwarding", defaultValue = "false") boolean behindProxy) {
        this.holder = holder;
        this.sessions = sessions;
        this.apiKey = apiKey;
        this.metrics = metrics;
        this.shares = shares;
        this.limits = new ChatConnection.Limits(config.maxFrameSize().asLongValue(), config.maxMessageLength());
        this.maxConnectionsPerClient = config.maxConnectionsPerClient();
        this.transportCap = TransportLimits.cap(config);
        this.behindProxy = behindProxy;
        this.idleTimeout = config.idleTimeout();
        vertx.setPeriodic(Math.max(100, idleTimeout.toMillis() / 6), timer -> closeSilent());
        sessions.onTakenElsewhere(this::takenElsewhere);
    }

    /** A connection of another instance opened the session of this one: it closes (4000) once its reply has ended. */
    private void takenElsewhere(String connectionId) {
        ChatConnection taken = open.get(connectionId);
        if (taken != null) {
            Thread.ofVirtual().name("resident-chat-takeover").start(taken::takenOver);
        }
    }

    /**
     * On SIGTERM, after the engine has drained (ModelHolder observes the same pre-shutdown event first): every chat
     * connection gets its reply's last frames, then a close frame.
     */
    void onShutdownStarted(@Observes @Priority(Interceptor.Priority.PLATFORM_AFTER) ShutdownDelayInitiatedEvent event) {
        List<ChatConnection> connections = List.copyOf(open.values());
        LOG.infof("Closing %d chat connections", connections.size());
        try (ExecutorService closing = Executors.newVirtualThreadPerTaskExecutor()) {
            connections.forEach(connection -> closing.execute(connection::goingAway));
        }
    }

    @OnOpen
    @RunOnVirtualThread
    void onOpen(WebSocketConnection connection) {
        HandshakeRequest request = connection.handshakeRequest();
        Map<String, List<String>> query = new QueryStringDecoder(request.query() == null ? "" : request.query(), false)
                .parameters();
        if (!apiKey.acceptsAuthorization(request.header("Authorization")) && !apiKey.acceptsToken(first(query, "api_key"))) {
            refuse(connection, Code.UNAUTHORIZED, "a valid API key is required: send it as \"Authorization: Bearer <key>\""
                    + " or as ?api_key=<key>", POLICY_VIOLATION);
            return;
        }
        if (holder.state() == ModelHolder.State.DRAINING) {
            refuse(connection, Code.BUSY, "the server is shutting down; connect again to reach another instance", GOING_AWAY);
            return;
        }
        String client = clientAddress(request);
        if (perClient.merge(client, 1, Integer::sum) > maxConnectionsPerClient) {
            releaseClient(client);
            refuse(connection, Code.BUSY, "this address already has " + maxConnectionsPerClient
                    + " open chat connections, the most allowed", POLICY_VIOLATION);
            return;
        }
        ServedModel model;
        ChatSessions.Opened opened;
        try {
            model = holder.served();
            opened = sessions.open(first(query, "session"), connection.id(), client);
        } catch (ModelNotReadyException | SessionLimitException | SessionStoreUnavailableException e) {
            releaseClient(client);
            refuse(connection, Code.BUSY, e.getMessage(), TRY_AGAIN_LATER);
            return;
        }
        ChatConnection chat = new ChatConnection(connection, opened.session(), model, client, limits, shares, metrics);
        open.put(connection.id(), chat);
        ChatConnection previous = opened.previousOwner() == null ? null : open.get(opened.previousOwner());
        if (previous != null) {
            previous.takenOver();
        }
        try {
            chat.send(ServerFrames.session(opened.session().conversation(), opened.session().id(), opened.resumed(),
                    model.id(), model.demo(), opened.session().window()));
        } catch (SessionStoreUnavailableException e) {
            chat.error(Code.BUSY, e.getMessage());
            chat.close(new CloseReason(TRY_AGAIN_LATER, Code.BUSY.wire()));
            return;
        }
        LOG.debugf("Chat connection %s from %s: session %s (%s)", connection.id(), client, opened.session().id(),
                opened.resumed() ? "resumed" : "new");
    }

    @OnTextMessage
    @RunOnVirtualThread
    void onText(WebSocketConnection connection, String text) {
        ChatConnection chat = open.get(connection.id());
        if (chat != null) {
            chat.receive(text);
        }
    }

    /** A pong answers the pings of {@link #closeSilent}: the client is still there. */
    @OnPongMessage
    void onPong(WebSocketConnection connection, Buffer data) {
        ChatConnection chat = open.get(connection.id());
        if (chat != null) {
            chat.heard();
        }
    }

    /**
     * A client silent for a third of RESIDENT_IDLE_TIMEOUT is pinged (a live one answers at once, even while only
     * reading a reply or waiting for a slot); one silent for the whole timeout is gone or hostile, and is closed.
     */
    private void closeSilent() {
        long now = System.nanoTime();
        for (ChatConnection chat : open.values()) {
            long silent = chat.silentNanos(now);
            if (silent > idleTimeout.toNanos()) {
                metrics.error("silent_connection");
                chat.close(new CloseReason(GOING_AWAY, "nothing heard for " + idleTimeout));
            } else if (silent > idleTimeout.toNanos() / 3) {
                chat.ping();
            }
        }
    }

    @OnBinaryMessage
    @RunOnVirtualThread
    void onBinary(WebSocketConnection connection, Buffer data) {
        ChatConnection chat = open.get(connection.id());
        if (chat != null) {
            chat.heard();
            chat.error(Code.INVALID_REQUEST, "binary frames are not part of the protocol: send JSON text frames");
        }
    }

    /** A disconnect cancels the running reply, and the session starts to idle. */
    @OnClose
    @RunOnVirtualThread
    void onClose(WebSocketConnection connection) {
        ChatConnection chat = open.remove(connection.id());
        if (chat != null) {
            chat.closed();
            sessions.release(chat.session(), connection.id());
            releaseClient(chat.client());
        }
    }

    /**
     * A message past the transport's cap: an error frame and a close with 1009. (A single frame past the cap is not
     * read at all: the HTTP server drops the connection without a word.) Anything else is logged.
     */
    @OnError
    @RunOnVirtualThread
    void onError(WebSocketConnection connection, Throwable failure) {
        ChatConnection chat = open.get(connection.id());
        boolean tooBig = (failure instanceof CorruptedWebSocketFrameException corrupted
                        && corrupted.closeStatus().code() == MESSAGE_TOO_BIG)
                || (failure instanceof IllegalStateException && String.valueOf(failure.getMessage()).contains("max message size"));
        if (chat != null && tooBig) {
            chat.error(Code.INVALID_REQUEST, "the message exceeds " + transportCap + " bytes; the connection closes");
            chat.close(new CloseReason(MESSAGE_TOO_BIG, "message too big"));
        } else if (failure instanceof HttpClosedException) {
            LOG.debugf("Chat connection %s dropped", connection.id());
        } else if (failure instanceof IOException || failure instanceof CorruptedWebSocketFrameException) {
            // a client that resets its connection (RST) or breaks the protocol: its doing, counted, not logged as a fault
            metrics.error(failure instanceof IOException ? "connection_reset" : "protocol_error");
            LOG.debugf("Chat connection %s: %s", connection.id(), failure);
        } else {
            LOG.warnf("Chat connection %s: %s", connection.id(), failure.toString());
        }
    }

    private void refuse(WebSocketConnection connection, Code code, String message, int closeCode) {
        metrics.error(code.wire());
        try {
            connection.sendTextAndAwait(ServerFrames.error(code, message));
            connection.closeAndAwait(new CloseReason(closeCode, code.wire()));
        } catch (RuntimeException e) {
            LOG.debugf("Chat connection %s went away while refused: %s", connection.id(), e);
        }
    }

    /**
     * The TCP peer's address; behind a proxy that sets X-Forwarded-For (quarkus.http.proxy.proxy-address-forwarding),
     * the first address it names.
     */
    private String clientAddress(HandshakeRequest request) {
        String forwarded = behindProxy ? request.header("X-Forwarded-For") : null;
        if (forwarded != null && !forwarded.isBlank()) {
            return forwarded.split(",", 2)[0].strip();
        }
        String peer = request.remoteAddress();
        return peer == null ? "unknown" : peer.substring(0, Math.max(0, peer.lastIndexOf(':')));
    }

    private void releaseClient(String client) {
        perClient.computeIfPresent(client, (address, count) -> count == 1 ? null : count - 1);
    }

    private static String first(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }
}
