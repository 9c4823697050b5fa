package io.resident.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Hub on localhost with the real URL and header shapes: the revision API, HEAD/GET
 * {repo}/resolve/{revision}/{file} with X-Repo-Commit and ETag, and for LFS files a 302 with X-Linked-Etag
 * (sha256) and X-Linked-Size to a separate CDN server that honours Range. Faults are switched on per test.
 */
final class FakeHub implements AutoCloseable {

    /** One request as a server saw it. */
    record Request(String server, String method, String path, String range, String authorization) {
    }

    /** A repository at one commit; gated ones want the token as a bearer token. */
    record Repo(String id, String commit, Map<String, byte[]> files, boolean gated) {
    }

    private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern API = Pattern.compile("/api/models/([^/]+/[^/]+)/revision/([^/]+)");
    private static final Pattern CDN = Pattern.compile("/lfs/([0-9a-f]{64})");

    static final String TOKEN = "hf_fake_token_for_tests";

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final Map<String, byte[]> lfsBlobs = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> dropAfter = new ConcurrentHashMap<>();
    private final Map<String, Long> claimedSize = new ConcurrentHashMap<>();
    private final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    private final AtomicInteger cdnInFlight = new AtomicInteger();
    private final AtomicInteger cdnMostInFlight = new AtomicInteger();
    private volatile CountDownLatch cdnGathering = new CountDownLatch(0);

    FakeHub() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", exchange -> serve(exchange, this::hub));
        cdn.createContext("/", exchange -> serve(exchange, this::cdn));
        hub.setExecutor(threads);
        cdn.setExecutor(threads);
        hub.start();
        cdn.start();
    }

    URI endpoint() {
        return URI.create("http://" + hub.getAddress().getHostString() + ":" + hub.getAddress().getPort());
    }

    void add(Repo repo) {
        repos.put(repo.id(), repo);
        repo.files().forEach((name, content) -> {
            if (isLfs(name)) {
                lfsBlobs.put(Hashes.sha256(content), content);
            }
        });
    }

    /** The repository was renamed: requests under the old id get a relative 307 to the new one, as on the Hub. */
    void rename(String oldId, String newId) {
        renamed.put(oldId, newId);
    }

    /** The CDN closes the connection after this many bytes of the file, the first time it is asked for. */
    void dropOnceAfter(byte[] file, int bytes) {
        dropAfter.put(Hashes.sha256(file), bytes);
    }

    /** The CDN serves this file with one byte changed. */
    void corrupt(byte[] file) {
        corrupt.put(Hashes.sha256(file), true);
    }

    /** The Hub announces this size for the file (X-Linked-Size). */
    void claimSize(byte[] file, long size) {
        claimedSize.put(Hashes.sha256(file), size);
    }

    /** CDN downloads wait (up to 5 s) until this many are in flight at once. */
    void gatherCdnDownloads(int count) {
        cdnGathering = new CountDownLatch(count);
    }

    int mostCdnDownloadsAtOnce() {
        return cdnMostInFlight.get();
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    List<Request> requests(String server) {
        return requests.stream().filter(r -> r.server().equals(server)).toList();
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        threads.shutdownNow();
    }

    static boolean isLfs(String name) {
        return name.endsWith(".safetensors") || name.endsWith(".bin") || name.endsWith(".model");
    }

    private interface Handler {
        void handle(HttpExchange exchange, String path) throws IOException, InterruptedException;
    }

    private void serve(HttpExchange exchange, Handler handler) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        requests.add(new Request(exchange.getHttpContext().getServer() == hub ? "hub" : "cdn", exchange.getRequestMethod(), path,
                exchange.getRequestHeaders().getFirst("Range"), exchange.getRequestHeaders().getFirst("Authorization")));
        try (exchange) {
            handler.handle(exchange, path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void hub(HttpExchange exchange, String path) throws IOException {
        Matcher api = API.matcher(path);
        Matcher resolve = RESOLVE.matcher(path);
        String id = api.matches() ? api.group(1) : resolve.matches() ? resolve.group(1) : "";
        if (renamed.containsKey(id)) {
            exchange.getResponseHeaders().set("Location", path.replace("/" + id + "/", "/" + renamed.get(id) + "/"));
            send(exchange, 307, new byte[0]);
        } else if (api.matches()) {
            repoInfo(exchange, api.group(1), decode(api.group(2)));
        } else if (resolve.matches()) {
            resolve(exchange, resolve.group(1), decode(resolve.group(2)), decode(resolve.group(3)));
        } else {
            error(exchange, 404, null, "Not found");
        }
    }

    private void repoInfo(HttpExchange exchange, String id, String revision) throws IOException {
        Repo repo = repos.get(id);
        if (repo == null) {
            error(exchange, 404, "RepoNotFound", "Repository not found");
            return;
        }
        if (!revision.equals("main") && !revision.equals(repo.commit())) {
            error(exchange, 404, "RevisionNotFound", "Invalid rev id: " + revision);
            return;
        }
        StringBuilder json = new StringBuilder("{\"_id\":\"0123\",\"id\":\"" + id + "\",\"private\":false,\"gated\":"
                + (repo.gated() ? "\"manual\"" : "false") + ",\"sha\":\"" + repo.commit() + "\",\"siblings\":[");
        List<String> names = new ArrayList<>(repo.files().keySet());
        for (int i = 0; i < names.size(); i++) {
            json.append(i == 0 ? "" : ",").append("{\"rfilename\":\"").append(names.get(i)).append("\"}");
        }
        json.append("]}");
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        send(exchange, 200, json.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void resolve(HttpExchange exchange, String id, String revision, String file) throws IOException {
        Repo repo = repos.get(id);
        if (repo == null) {
            error(exchange, 404, "RepoNotFound", "Repository not found");
            return;
        }
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (repo.gated() && authorization == null) {
            error(exchange, 401, "GatedRepo", "Access to model " + id + " is restricted. You must have access to it"
                    + " and be authenticated to access it. Please log in.");
            return;
        }
        if (repo.gated() && !("Bearer " + TOKEN).equals(authorization)) {
            // the Hub's answer to a valid token whose account has not been granted access
            error(exchange, 403, "GatedRepo", "Access to model " + id + " is restricted and you are not in the authorized list.");
            return;
        }
        byte[] content = repo.files().get(file);
        if (content == null || (!revision.equals("main") && !revision.equals(repo.commit()))) {
            error(exchange, 404, "EntryNotFound", "Entry not found");
            return;
        }
        var headers = exchange.getResponseHeaders();
        headers.set("X-Repo-Commit", repo.commit());
        if (isLfs(file)) {
            String sha256 = Hashes.sha256(content);
            headers.set("ETag", "\"" + Hashes.gitBlobSha1(("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256
                    + "\nsize " + content.length + "\n").getBytes(StandardCharsets.UTF_8)) + "\"");
            headers.set("X-Linked-Etag", "\"" + sha256 + "\"");
            headers.set("X-Linked-Size", Long.toString(claimedSize.getOrDefault(sha256, (long) content.length)));
            headers.set("Location", "http://" + cdn.getAddress().getHostString() + ":" + cdn.getAddress().getPort()
                    + "/lfs/" + sha256 + "?X-Amz-Expires=3600&X-Amz-Signature=abc");
            send(exchange, 302, new byte[0]);
        } else {
            headers.set("ETag", "\"" + Hashes.gitBlobSha1(content) + "\"");
            send(exchange, 200, content);
        }
    }

    private void cdn(HttpExchange exchange, String path) throws IOException, InterruptedException {
        Matcher lfs = CDN.matcher(path);
        byte[] content = lfs.matches() ? lfsBlobs.get(lfs.group(1)) : null;
        if (content == null) {
            error(exchange, 404, null, "NoSuchKey");
            return;
        }
        String sha256 = lfs.group(1);
        if (corrupt.containsKey(sha256)) {
            content = content.clone();
            content[content.length / 2] ^= 0x5a;
        }
        int inFlight = cdnInFlight.incrementAndGet();
        cdnMostInFlight.accumulateAndGet(inFlight, Math::max);
        try {
            cdnGathering.countDown();
            cdnGathering.await(5, TimeUnit.SECONDS);
            int from = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Range"))
                    .map(range -> Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1")))
                    .orElse(0);
            byte[] body = Arrays.copyOfRange(content, from, content.length);
            int status = 200;
            if (from > 0) {
                status = 206;
                exchange.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
            }
            Integer drop = dropAfter.remove(sha256);
            if (drop == null) {
                send(exchange, status, body);
                return;
            }
            // announce the whole length, send part of it, then hang up: a connection lost midway
            exchange.sendResponseHeaders(status, body.length);
            OutputStream out = exchange.getResponseBody();
            out.write(body, 0, drop);
            out.flush();
            throw new IOException("dropped on purpose");
        } finally {
            cdnInFlight.decrementAndGet();
        }
    }

    private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
        if (code != null) {
            exchange.getResponseHeaders().set("X-Error-Code", code);
        }
        exchange.getResponseHeaders().set("X-Error-Message", message);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        send(exchange, status, ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    private static String decode(String segment) {
        return URLDecoder.decode(segment, StandardCharsets.UTF_8);
    }
}
