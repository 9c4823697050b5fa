package io.resident.chat;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What each client address may take of the session store: at most {@code perClient} sessions, and at most
 * {@code perMinute} new ones a minute (a bucket of as many, refilled evenly), so that one client's churn displaces
 * only its own sessions. Not thread-safe: {@link ChatSessions} calls it under its lock.
 */
final class ClientShares {

    private static final double NANOS_PER_MINUTE = 60e9;

    /** One address's sessions and what is left of its budget of new ones. */
    private static final class Share {
        final Set<String> sessions = new HashSet<>();
        double budget;
        long refilledNanos;

        Share(double budget, long now) {
            this.budget = budget;
            this.refilledNanos = now;
        }
    }

    private final int perClient;
    private final int perMinute;
    private final Map<String, Share> shares = new HashMap<>();
    private final Map<String, String> clientOf = new HashMap<>();

    ClientShares(int perClient, int perMinute) {
        if (perClient < 1 || perMinute < 1) {
            throw new IllegalArgumentException("RESIDENT_MAX_SESSIONS_PER_CLIENT and RESIDENT_NEW_SESSIONS_PER_CLIENT_PER_MINUTE"
                    + " must be at least 1, were " + perClient + " and " + perMinute);
        }
        this.perClient = perClient;
        this.perMinute = perMinute;
    }

    /**
     * Takes one new session from the client's budget.
     *
     * @return the client's sessions when it holds its whole share (one of them must go first), else null
     * @throws SessionLimitException the client has opened its sessions of the last minute already
     */
    Collection<String> admit(String client, long now) {
        Share share = shares.computeIfAbsent(client, c -> new Share(perMinute, now));
        share.budget = Math.min(perMinute, share.budget + (now - share.refilledNanos) * perMinute / NANOS_PER_MINUTE);
        share.refilledNanos = now;
        if (share.budget < 1) {
            throw new SessionLimitException("this address has opened " + perMinute
                    + " chat sessions within a minute, the most allowed; resume one (?session=<id>) or try again shortly");
        }
        share.budget--;
        return share.sessions.size() >= perClient ? share.sessions : null;
    }

    /** The client's share is full and every one of its sessions has a connection. */
    SessionLimitException full() {
        return new SessionLimitException("this address holds " + perClient
                + " chat sessions, each with an open connection, the most allowed; close one or try again later");
    }

    void added(String sessionId, String client) {
        shares.get(client).sessions.add(sessionId);
        clientOf.put(sessionId, client);
    }

    void removed(String sessionId) {
        String client = clientOf.remove(sessionId);
        if (client != null) {
            shares.get(client).sessions.remove(sessionId);
        }
    }

    /** Forgets the addresses that hold no session and whose budget has refilled: they are as good as new. */
    void forgetIdle(long now) {
        shares.values().removeIf(share -> share.sessions.isEmpty()
                && share.budget + (now - share.refilledNanos) * perMinute / NANOS_PER_MINUTE >= perMinute);
    }
}
