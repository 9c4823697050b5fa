package io.resident;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real redis-server (Debian's package; .ci/run installs it) on loopback, on a free port, its data in a folder of its
 * own. Append-only with a sync per write, so a stop and a start keep everything written.
 */
public final class RedisServer implements AutoCloseable {

    private static final Duration START_WITHIN = Duration.ofSeconds(20);

    private final Path dir;
    private final int port;
    private Process process;

    private RedisServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts a redis-server whose data and log live in {@code dir}. */
    public static RedisServer start(Path dir) throws IOException, InterruptedException {
        requireInstalled();
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        RedisServer server = new RedisServer(Files.createDirectories(dir), port);
        server.startProcess();
        return server;
    }

    /** Without redis-server the session-store tests are skipped with the way to install it, except in CI, where they fail. */
    private static void requireInstalled() {
        boolean installed = Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(folder -> Files.isExecutable(Path.of(folder, "redis-server")));
        if (installed) {
            return;
        }
        String message = "the session-store tests need redis-server (Debian's redis-server package): bash .ci/run installs it";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(message);
        }
        Assumptions.abort(message);
    }

    /** QUARKUS_REDIS_HOSTS for this server. */
    public String hosts() {
        return "redis://127.0.0.1:" + port;
    }

    /** Stops the server (as SIGTERM does: it syncs and exits); its port and data stay for {@link #restart}. */
    public void stop() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(START_WITHIN.toSeconds(), TimeUnit.SECONDS), "redis-server did not stop");
    }

    /** Starts the server again on the same port with the same data. */
    public void restart() throws IOException, InterruptedException {
        startProcess();
    }

    /** Runs one command over RESP; returns the reply as redis-cli --raw would print it, one line per element. */
    public String command(String... args) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(5000);
            StringBuilder request = new StringBuilder("*" + args.length + "\r\n");
            for (String arg : args) {
                request.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            List<String> lines = new ArrayList<>();
            read(socket.getInputStream(), lines);
            return String.join("\n", lines);
        }
    }

    private static void read(InputStream in, List<String> lines) throws IOException {
        String header = line(in);
        switch (header.charAt(0)) {
            case '+', ':' -> lines.add(header.substring(1));
            case '-' -> throw new IOException("redis: " + header.substring(1));
            case '$' -> {
                int length = Integer.parseInt(header.substring(1));
                if (length >= 0) {
                    lines.add(new String(in.readNBytes(length), StandardCharsets.UTF_8));
                    in.readNBytes(2);
                }
            }
            case '*' -> {
                int count = Integer.parseInt(header.substring(1));
                for (int i = 0; i < count; i++) {
                    read(in, lines);
                }
            }
            default -> throw new IOException("unexpected reply " + header);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("redis closed the connection");
            }
            line.append((char) c);
        }
        in.read();
        return line.toString();
    }

    private void startProcess() throws IOException, InterruptedException {
        process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                "--logfile", dir.resolve("redis.log").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        long deadline = System.nanoTime() + START_WITHIN.toNanos();
        while (true) {
            try {
                if (command("PING").equals("PONG")) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet, or still loading its data
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new AssertionError("redis-server did not start within " + START_WITHIN + ":\n"
                        + Files.readString(dir.resolve("redis.out")) + readLog());
            }
            Thread.sleep(50);
        }
    }

    private String readLog() throws IOException {
        Path log = dir.resolve("redis.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            stop();
        }
    }
}
