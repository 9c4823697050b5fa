package io.resident.api.ws;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.RawClient;
import io.resident.attack.ServiceDefaults;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One address could open any number of connections (5,000 in 0.4 s), connections that sent nothing stayed open, and a
 * refused upload was read to its end (300 MB). With the default settings: 64 connections an address from the moment
 * they open, 10 s for a connection's first request head, and a 413 closes the connection.
 */
@QuarkusTest
@TestProfile(ServiceDefaults.class)
class ConnectionLimitTest extends RunningChatApp {

    private static final Duration CLOSED_WITHIN = Duration.ofSeconds(15);
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(10);

    @Test
    void oneAddressHoldsAtMostItsConnections() throws Exception {
        List<RawClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                RawClient client = raw("127.0.0.4");
                held.add(client);
                assertTrue(get(client).startsWith("HTTP/1.1 200"), "connection " + (i + 1));
            }
            try (RawClient extra = raw("127.0.0.4")) {
                String refused = get(extra);
                assertTrue(refused.startsWith("HTTP/1.1 429"), refused);
                assertTrue(new String(extra.read(400), StandardCharsets.UTF_8).contains("too_many_connections"));
                assertTrue(extra.closedByServer(CLOSED_WITHIN));
            }
            try (RawClient other = raw("127.0.0.5")) {
                assertTrue(get(other).startsWith("HTTP/1.1 200"), "another address has its own connections");
            }
            held.removeFirst().close();
            RawClient again = awaitAdmitted();
            held.add(again);
        } finally {
            for (RawClient client : held) {
                client.close();
            }
        }
    }

    @Test
    void connectionsThatSendNothingCountAndCloseAfterTheHeaderTimeout() throws Exception {
        List<RawClient> silent = new ArrayList<>();
        try {
            long opened = System.nanoTime();
            for (int i = 0; i < 64; i++) {
                silent.add(raw("127.0.0.6"));
            }
            silent.getLast().write("GET /q/health/live HTTP/1.1\r\nHost: local"); // a head that never ends
            try (RawClient extra = raw("127.0.0.6")) {
                String refused = extra.readHead();
                // the 64 are only held for the header timeout: a machine stalled that long proves nothing either way
                assumeTrue(System.nanoTime() - opened < HEADER_TIMEOUT.toNanos(), "stalled past the header timeout");
                assertTrue(refused.startsWith("HTTP/1.1 429"), refused);
                assertTrue(new String(extra.readBody(refused), StandardCharsets.UTF_8).contains("too_many_connections"));
                assertTrue(extra.closedByServer(CLOSED_WITHIN));
            }
            for (RawClient client : silent) {
                assertTrue(client.closedByServer(HEADER_TIMEOUT.plus(CLOSED_WITHIN)), "a silent connection stayed open");
            }
            try (RawClient after = raw("127.0.0.6")) {
                assertTrue(get(after).startsWith("HTTP/1.1 200"), "closed connections still count against their address");
            }
        } finally {
            for (RawClient client : silent) {
                client.close();
            }
        }
    }

    @Test
    void aRefusedUploadIsNotReadToItsEnd() throws Exception {
        long limit = 10L << 20;
        try (RawClient client = raw(null)) {
            client.write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + (limit + 1) + "\r\n\r\n{\"messages\":");
            String head = client.readHead();
            assertTrue(head.startsWith("HTTP/1.1 413"), head);
            assertTrue(client.closedByServer(CLOSED_WITHIN), "the server went on reading the refused body");
        }
        try (RawClient client = raw(null)) {
            client.write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = ("100000\r\n" + " ".repeat(0x100000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            boolean refused = false;
            for (int sent = 0; sent < 64 && !refused; sent++) {
                try {
                    client.write(chunk);
                } catch (IOException e) {
                    refused = true; // the server closed the connection: the rest of the body goes nowhere
                }
            }
            assertTrue(refused, "64 MiB of a body over the 10 MiB limit were read");
        }
    }

    private RawClient raw(String from) throws IOException {
        return RawClient.connect("127.0.0.1", endpoint.getPort(), from);
    }

    private static String get(RawClient client) throws IOException {
        client.write("GET /q/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
        String head = client.readHead();
        int length = head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                .mapToInt(l -> Integer.parseInt(l.substring(15).strip())).findFirst().orElse(0);
        if (head.startsWith("HTTP/1.1 200")) {
            client.read(length);
        }
        return head;
    }

    /** A new connection from the full address, once the server has seen one of its connections close. */
    private RawClient awaitAdmitted() throws Exception {
        long deadline = System.nanoTime() + CLOSED_WITHIN.toNanos();
        while (true) {
            RawClient client = raw("127.0.0.4");
            if (get(client).startsWith("HTTP/1.1 200")) {
                return client;
            }
            client.close();
            assertTrue(System.nanoTime() < deadline, "a closed connection still counts against its address");
            Thread.sleep(50);
        }
    }
}
