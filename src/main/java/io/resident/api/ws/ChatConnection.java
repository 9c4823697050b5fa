package io.resident.api.ws;

import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.resident.api.WaitShares;
import io.resident.api.ws.ClientFrame.Cancel;
import io.resident.api.ws.ClientFrame.Chat;
import io.resident.api.ws.ClientFrame.Reset;
import io.resident.api.ws.ClientFrame.SystemPrompt;
import io.resident.api.ws.ServerFrames.Code;
import io.resident.chat.ChatSession;
import io.resident.chat.SessionStoreUnavailableException;
import io.resident.engine.GenerationRequest;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import io.resident.ops.ResidentMetrics;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * One open chat connection: the session it owns, and the turn it runs (at most one). Frames arrive one at a time
 * (websockets-next's serial processing); a turn runs on its own virtual thread so that a cancel frame is read while
 * it streams.
 */
final class ChatConnection {

    private static final Logger LOG = Logger.getLogger(ChatConnection.class);
    /** Close code for a connection whose session a newer connection resumed (a private code, RFC 6455 7.4.2). */
    static final int TAKEN_OVER = 4000;
    /** RFC 6455: the server is going away. */
    static final int GOING_AWAY = 1001;
    private static final Duration TURN_END_WAIT = Duration.ofSeconds(10);
    private static final String TURN_RUNNING =
            "a reply is being generated on this connection: wait for its done frame, or cancel it";

    private final WebSocketConnection connection;
    private final ChatSession session;
    private final ServedModel model;
    private final String client;
    private final Limits limits;
    private final WaitShares shares;
    private final ResidentMetrics metrics;
    private final AtomicReference<Turn> turn = new AtomicReference<>();
    private volatile long heardNanos = System.nanoTime();

    /** What one frame may hold. */
    record Limits(long maxFrameBytes, int maxMessageLength) {}

    ChatConnection(WebSocketConnection connection, ChatSession session, ServedModel model, String client, Limits limits,
            WaitShares shares, ResidentMetrics metrics) {
        this.connection = connection;
        this.shares = shares;
        this.session = session;
        this.model = model;
        this.client = client;
        this.limits = limits;
        this.metrics = metrics;
    }

    ChatSession session() {
        return session;
    }

    ServedModel model() {
        return model;
    }

    /** Queues a reply on the engine, within the client address's share of the queue. */
    TokenStream submit(GenerationRequest request) throws InterruptedException {
        return shares.submit(model.engine(), request, client);
    }

    /** The client address the connection counts against. */
    String client() {
        return client;
    }

    /** The client sent something (a frame, a pong): it is still there. */
    void heard() {
        heardNanos = System.nanoTime();
    }

    /** How long the client has sent nothing. */
    long silentNanos(long now) {
        return now - heardNanos;
    }

    /** Asks the client for a pong (browsers and WebSocket libraries answer by themselves). */
    void ping() {
        if (!connection.isClosed()) {
            connection.sendPing(Buffer.buffer()).subscribe().with(ok -> {}, failure -> LOG.debugf("Ping failed: %s", failure));
        }
    }

    /** Handles one text frame from the client. */
    void receive(String text) {
        heard();
        session.touch(System.nanoTime());
        if (!session.ownedBy(connection.id())) {
            error(Code.BUSY, "the session was resumed on another connection");
            return;
        }
        try {
            switch (FrameParser.parse(text, limits.maxFrameBytes(), limits.maxMessageLength())) {
                case Chat chat -> startTurn(new Turn(this, chat.content(), chat.options().sampling(model.defaults()),
                        chat.options().stream()));
                case SystemPrompt system -> {
                    if (idle()) {
                        session.systemPrompt(system.content());
                        send(ServerFrames.system(session.systemPrompt(), session.size()));
                    }
                }
                case Reset reset -> {
                    if (idle()) {
                        session.clear();
                        send(ServerFrames.reset(session.size()));
                    }
                }
                case Cancel cancel -> {
                    Turn running = turn.get();
                    if (running != null) {
                        running.cancel();
                    }
                }
            }
        } catch (InvalidFrameException e) {
            error(Code.INVALID_REQUEST, e.getMessage());
        } catch (SessionStoreUnavailableException e) {
            error(Code.BUSY, e.getMessage());
        }
    }

    private void startTurn(Turn next) {
        if (turn.compareAndSet(null, next)) {
            next.start();
        } else {
            error(Code.BUSY, TURN_RUNNING);
        }
    }

    /** No turn runs; else answers busy. */
    private boolean idle() {
        if (turn.get() == null) {
            return true;
        }
        error(Code.BUSY, TURN_RUNNING);
        return false;
    }

    /** The turn is over: the next chat frame may start another. */
    void endTurn(Turn ended) {
        turn.compareAndSet(ended, null);
    }

    /** The connection closed: a running reply is cancelled (what it generated so far stays in memory). */
    void closed() {
        Turn running = turn.get();
        if (running != null) {
            running.cancel();
        }
    }

    /**
     * A newer connection resumed this one's session: the running reply is cancelled and its memory written before
     * this connection closes, so the new one sees the session whole.
     */
    void takenOver() {
        Turn running = turn.get();
        if (running != null) {
            running.cancel();
        }
        closeAfterTurn(new CloseReason(TAKEN_OVER, "the session was resumed on another connection"));
    }

    /**
     * The service shuts down and has drained: the running reply (finished or cut at the drain timeout) sends its done
     * frame, then the connection closes with 1001, so the client reconnects to another instance.
     */
    void goingAway() {
        closeAfterTurn(new CloseReason(GOING_AWAY, "the service is shutting down"));
    }

    /** Closes once the running reply, if any, has sent its last frame and written its memory. */
    private void closeAfterTurn(CloseReason reason) {
        Turn running = turn.get();
        if (running != null) {
            try {
                if (!running.awaitEnd(TURN_END_WAIT)) {
                    LOG.warnf("A reply of session %s did not end within %s of the close (%s)", session.id(), TURN_END_WAIT,
                            reason.getMessage());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        close(reason);
    }

    void error(Code code, String message) {
        metrics.error(code.wire());
        send(ServerFrames.error(code, message));
    }

    /** A finished turn's time in the session store. */
    void storeTime(Duration time) {
        metrics.sessionStore(time);
    }

    /** The engine turned the reply away (it counted the error itself). */
    void engineBusy(String message, Duration retryAfter) {
        send(ServerFrames.busy(message, retryAfter));
    }

    /** Sends a frame and waits until it is written; false when the connection is gone. */
    boolean send(String frame) {
        if (connection.isClosed()) {
            return false;
        }
        try {
            connection.sendTextAndAwait(frame);
            return true;
        } catch (RuntimeException e) {
            LOG.debugf("Could not send to %s: %s", connection.id(), e);
            return false;
        }
    }

    void close(CloseReason reason) {
        if (!connection.isClosed()) {
            connection.close(reason).subscribe().with(ok -> {}, failure -> LOG.debugf("Close failed: %s", failure));
        }
    }
}
