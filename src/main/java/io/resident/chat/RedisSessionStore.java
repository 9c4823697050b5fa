package io.resident.chat;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ChatMessageDeserializer;
import dev.langchain4j.data.message.ChatMessageSerializer;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.redis.datasource.transactions.TransactionResult;
import io.quarkus.redis.datasource.transactions.TransactionalRedisDataSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Sessions in Redis (RESIDENT_SESSION_STORE=redis), shared by every replica. A session is two keys under
 * {@code resident:session:<id>}: a hash (system prompt, last activity in epoch ms) and {@code :messages}, a list of
 * langchain4j's JSON of each message. Every write is one MULTI/EXEC that also sets both keys' TTL to the idle timeout,
 * so Redis itself expires an idle session. Opening a session is announced on a pub/sub channel, so that the instance
 * whose connection had it closes that connection.
 */
final class RedisSessionStore implements SessionStore {

    private static final Logger LOG = Logger.getLogger(RedisSessionStore.class);
    static final String PREFIX = "resident:session:";
    static final String OPENED_CHANNEL = "resident:sessions:opened";
    private static final String SYSTEM_PROMPT = "systemPrompt";
    private static final String LAST_ACTIVE = "lastActive";

    private final RedisDataSource redis;
    private final Duration ttl;
    /** Tells this instance's announcements from the others'. */
    private final String instance = UUID.randomUUID().toString();
    private volatile Consumer<String> openedElsewhere = id -> {};
    /** Whether the take-over channel is subscribed, or a subscription is under way. */
    private final AtomicBoolean subscribed = new AtomicBoolean();

    RedisSessionStore(RedisDataSource redis, Duration idleTimeout) {
        this.redis = redis;
        this.ttl = idleTimeout;
        subscribe();
    }

    static String metaKey(String id) {
        return PREFIX + id;
    }

    static String messagesKey(String id) {
        return PREFIX + id + ":messages";
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public List<ChatMessage> getMessages(Object id) {
        List<String> json = call(() -> redis.list(String.class).lrange(messagesKey((String) id), 0, -1));
        List<ChatMessage> messages = new ArrayList<>(json.size());
        json.forEach(message -> messages.add(ChatMessageDeserializer.messageFromJson(message)));
        return messages;
    }

    @Override
    public void updateMessages(Object id, List<ChatMessage> messages) {
        String session = (String) id;
        write(session, tx -> {
            tx.key().del(messagesKey(session));
            if (!messages.isEmpty()) {
                tx.list(String.class).rpush(messagesKey(session), json(messages));
            }
        });
    }

    @Override
    public void deleteMessages(Object id) {
        updateMessages(id, List.of());
    }

    @Override
    public boolean exists(String id) {
        return call(() -> redis.key().exists(metaKey(id)));
    }

    @Override
    public void touch(String id) {
        write(id, tx -> {});
    }

    @Override
    public void remove(String id) {
        call(() -> redis.key().del(metaKey(id), messagesKey(id)));
    }

    @Override
    public String systemPrompt(String id) {
        return call(() -> redis.hash(String.class).hget(metaKey(id), SYSTEM_PROMPT));
    }

    @Override
    public void systemPrompt(String id, String prompt) {
        write(id, tx -> {
            if (prompt == null) {
                tx.hash(String.class).hdel(metaKey(id), SYSTEM_PROMPT);
            } else {
                tx.hash(String.class).hset(metaKey(id), SYSTEM_PROMPT, prompt);
            }
        });
    }

    @Override
    public int appendTurn(String id, ChatMessage user, ChatMessage reply, int window) {
        TransactionResult result = write(id, tx -> {
            tx.list(String.class).rpush(messagesKey(id), json(List.of(user, reply)));
            tx.list(String.class).ltrim(messagesKey(id), -window, -1);
            tx.list(String.class).llen(messagesKey(id));
        });
        return ((Number) result.get(2)).intValue();
    }

    @Override
    public void announceOpened(String id) {
        call(() -> {
            redis.pubsub(String.class).publish(OPENED_CHANNEL, instance + " " + id);
            return null;
        });
    }

    @Override
    public void onOpenedElsewhere(Consumer<String> sessionIds) {
        openedElsewhere = sessionIds;
    }

    /** Redis answers a PING; the take-over channel is subscribed again if its connection was lost. */
    @Override
    public String check() {
        call(() -> redis.execute("PING"));
        subscribe();
        return "redis";
    }

    /**
     * One MULTI/EXEC: the session's commands, then its last activity and both keys' TTL; the results of the
     * session's commands come first.
     */
    private TransactionResult write(String id, Consumer<TransactionalRedisDataSource> commands) {
        TransactionResult result = call(() -> redis.withTransaction(tx -> {
            commands.accept(tx);
            tx.hash(String.class).hset(metaKey(id), LAST_ACTIVE, Long.toString(System.currentTimeMillis()));
            tx.key().pexpire(metaKey(id), ttl);
            tx.key().pexpire(messagesKey(id), ttl);
        }));
        if (result.discarded()) {
            throw new SessionStoreUnavailableException("Redis discarded a write of session " + id, null);
        }
        return result;
    }

    /**
     * Subscribes the take-over channel unless it is or is being subscribed; never blocks. The subscription counts until
     * its connection ends: with these client versions the confirmation may never arrive although messages do.
     */
    private void subscribe() {
        if (subscribed.compareAndSet(false, true)) {
            redis.getReactive().pubsub(String.class)
                    .subscribe(OPENED_CHANNEL, this::received, this::unsubscribed, failure -> unsubscribed())
                    .subscribe().with(subscriber -> LOG.debug("Subscribed to the take-over channel"), failure -> {
                        subscribed.set(false);
                        LOG.warnf("The take-over channel is not subscribed (%s); the next check tries again", failure.toString());
                    });
        }
    }

    private void unsubscribed() {
        if (subscribed.compareAndSet(true, false)) {
            LOG.warn("The take-over channel's Redis connection ended; the next check subscribes it again");
        }
    }

    private void received(String message) {
        int space = message.indexOf(' ');
        if (space > 0 && !message.substring(0, space).equals(instance)) {
            openedElsewhere.accept(message.substring(space + 1));
        }
    }

    private static String[] json(List<ChatMessage> messages) {
        return messages.stream().map(ChatMessageSerializer::messageToJson).toArray(String[]::new);
    }

    /** Runs a Redis command; a failure to reach Redis becomes a SessionStoreUnavailableException with its reason. */
    private static <T> T call(Supplier<T> command) {
        try {
            return command.get();
        } catch (SessionStoreUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new SessionStoreUnavailableException("the session store (Redis) is unreachable: " + root, e);
        }
    }
}
