package io.resident.attack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.Deflater;

/**
 * A TCP client that writes HTTP/1.1 and WebSocket frames byte by byte, as a hostile or careless client does: partial
 * headers, frames with any bits set, silence. Reads have a timeout, so nothing waits forever.
 */
public final class RawClient implements AutoCloseable {

    /** The longest any read waits. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    /** A frame from the server. */
    public record Frame(int opcode, byte[] payload) {

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The status code of a close frame, 1005 when it has none (RFC 6455 7.1.5). */
        public int closeCode() {
            return payload.length < 2 ? 1005 : ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
        }
    }

    public static final int TEXT = 1;
    public static final int CLOSE = 8;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects from the given local address (another loopback address is another client), or any when null. */
    public static RawClient connect(String host, int port, String from) throws IOException {
        Socket socket = new Socket();
        if (from != null) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        }
        socket.connect(new InetSocketAddress(host, port), (int) READ_TIMEOUT.toMillis());
        socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
        socket.setTcpNoDelay(true);
        return new RawClient(socket);
    }

    public static RawClient connect(String host, int port) throws IOException {
        return connect(host, port, null);
    }

    /**
     * Opens a WebSocket on {@code path} with these extra handshake headers and returns the client with the server's
     * answer read: its status line and headers (the caller checks for 101).
     */
    public static RawClient upgrade(String host, int port, String path, Map<String, String> headers, StringBuilder head)
            throws IOException {
        return upgrade(host, port, null, path, headers, head);
    }

    /** {@link #upgrade(String, int, String, Map, StringBuilder)} from the given local address. */
    public static RawClient upgrade(String host, int port, String from, String path, Map<String, String> headers,
            StringBuilder head) throws IOException {
        RawClient client = connect(host, port, from);
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                + Base64.getEncoder().encodeToString(nonce) + "\r\n");
        headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        client.write(request.append("\r\n").toString());
        head.append(client.readHead());
        return client;
    }

    /** Sends a whole POST request with a Content-Length; the answer is the caller's to read. */
    public void post(String host, String path, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        write("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: " + contentType
                + "\r\nContent-Length: " + bytes.length + "\r\n\r\n");
        write(bytes);
    }

    /** A permessage-deflate payload (raw deflate, RFC 7692 without its 00 00 ff ff tail) of {@code size} zero bytes. */
    public static byte[] permessageDeflate(int size) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        byte[] zeros = new byte[1 << 20];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        for (int fed = 0; fed < size; fed += zeros.length) {
            deflater.setInput(zeros);
            while (!deflater.needsInput()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
        }
        int n;
        do {
            n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
            out.write(buffer, 0, n);
        } while (n == buffer.length);
        deflater.end();
        byte[] bytes = out.toByteArray();
        return Arrays.copyOf(bytes, bytes.length - 4);
    }

    public void write(String ascii) throws IOException {
        write(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The status line and headers of a response, up to the empty line. */
    public String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /** The body that follows {@code head}, as long as its Content-Length says. */
    public byte[] readBody(String head) throws IOException {
        String length = head.lines().filter(l -> l.regionMatches(true, 0, "Content-Length:", 0, 15)).findFirst()
                .orElseThrow(() -> new IOException("no Content-Length in " + head));
        return read(Integer.parseInt(length.substring(15).strip()));
    }

    /** Up to n bytes of what follows (a body), fewer when the server closes first. */
    public byte[] read(int n) throws IOException {
        return in.readNBytes(n);
    }

    /** A masked client frame, FIN set; rsv1 marks it compressed (permessage-deflate). */
    public void sendFrame(int opcode, boolean rsv1, byte[] payload) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write(0x80 | (rsv1 ? 0x40 : 0) | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) payload.length >>> shift) & 0xff);
            }
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i & 3]);
        }
        write(frame.toByteArray());
    }

    /** The next frame from the server, or null when it closed the connection. */
    public Frame readFrame() throws IOException {
        int first = in.read();
        int second = in.read();
        if (first < 0 || second < 0) {
            return null;
        }
        long length = second & 0x7f;
        if (length == 126) {
            length = ((in.read() & 0xff) << 8) | (in.read() & 0xff);
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; i++) {
                length = (length << 8) | (in.read() & 0xff);
            }
        }
        byte[] payload = in.readNBytes((int) length);
        return new Frame(first & 0x0f, payload);
    }

    /**
     * Reads and drops what comes until the server closes the connection, for at most {@code within}; says whether it
     * did (an end of stream or a reset).
     */
    public boolean closedByServer(Duration within) throws IOException {
        socket.setSoTimeout((int) within.toMillis());
        long deadline = System.nanoTime() + within.toNanos();
        byte[] sink = new byte[8192];
        try {
            while (System.nanoTime() < deadline) {
                if (in.read(sink) < 0) {
                    return true;
                }
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        } finally {
            socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
        }
    }

    /** Drops the connection with a TCP reset (RST) instead of a close. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
