package io.resident.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Hub's HTTP API, used the way huggingface_hub uses it: the revision listing, file metadata from
 * HEAD {endpoint}/{repo}/resolve/{commit}/{file}, and ranged downloads from where that points.
 */
final class HubClient {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    // until the response headers arrive; a body may then take as long as it needs
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_REDIRECTS = 5;
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9][\\w.+=-]*");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The commit a revision points to and every file of the repository at that commit. */
    record RepoInfo(String commit, List<String> files) {
    }

    /**
     * What HEAD .../resolve/... says about one file.
     *
     * @param etag     sha256 of an LFS file, git blob sha1 of a regular one: the blob's name in the cache
     * @param location where to GET the content (for LFS files the CDN the Hub redirects to)
     */
    record FileMetadata(String file, String etag, long size, URI location) {
    }

    private final HubSettings settings;
    private final HttpClient http;

    HubClient(HubSettings settings) {
        this.settings = settings;
        // redirects are followed by hand: the first response carries the metadata headers, and the token stays with the Hub
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
    }

    /**
     * GET {endpoint}/api/models/{repo}/revision/{revision}: the commit sha and the siblings list.
     *
     * @throws IOException when the Hub cannot be reached or answers with a server error
     */
    RepoInfo repoInfo(HubId id) throws IOException, InterruptedException {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + id.repo() + "/revision/" + encode(id.revision()));
        HttpResponse<byte[]> response = sendWithinHub(uri, "GET", HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() >= 500) {
            // a Hub that is down is as unreachable as a network that is
            throw new IOException("HTTP " + response.statusCode() + " from " + uri);
        }
        if (response.statusCode() != 200) {
            throw failure(response, id, null);
        }
        JsonNode info = JSON.readTree(response.body());
        String commit = info.path("sha").asText();
        if (!RepoCache.isCommit(commit)) {
            throw new HubException(uri + " answered without a commit sha: is HF_ENDPOINT (" + settings.endpoint() + ") a Hugging Face Hub?");
        }
        List<String> files = new ArrayList<>();
        info.path("siblings").forEach(sibling -> files.add(sibling.path("rfilename").asText()));
        return new RepoInfo(commit, files);
    }

    /** HEAD {endpoint}/{repo}/resolve/{commit}/{file}; an LFS file answers with a redirect to its content. */
    FileMetadata metadata(HubId id, String commit, String file) throws IOException, InterruptedException {
        URI uri = URI.create(settings.endpoint() + "/" + id.repo() + "/resolve/" + commit + "/" + encode(file));
        HttpResponse<Void> response = sendWithinHub(uri, "HEAD", HttpResponse.BodyHandlers.discarding());
        Optional<String> location = response.headers().firstValue("Location");
        if (response.statusCode() / 100 == 3 && location.isPresent()) {
            return metadata(file, response, response.uri().resolve(location.get()));
        }
        if (response.statusCode() == 200) {
            return metadata(file, response, response.uri());
        }
        throw failure(response, id, file);
    }

    /** Follows the Hub's relative redirects (a renamed repository) and returns the first other answer with its headers. */
    private <T> HttpResponse<T> sendWithinHub(URI uri, String method, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        for (int redirects = 0; ; redirects++) {
            HttpResponse<T> response = http.send(request(uri).method(method, HttpRequest.BodyPublishers.noBody()).build(), body);
            Optional<String> location = response.headers().firstValue("Location");
            if (response.statusCode() / 100 != 3 || location.isEmpty() || URI.create(location.get()).isAbsolute()
                    || redirects == MAX_REDIRECTS) {
                return response;
            }
            uri = uri.resolve(location.get());
        }
    }

    private FileMetadata metadata(String file, HttpResponse<?> response, URI location) {
        String etag = response.headers().firstValue("X-Linked-Etag").or(() -> response.headers().firstValue("ETag"))
                .map(HubClient::normalizeEtag)
                .filter(e -> ETAG.matcher(e).matches())
                .orElseThrow(() -> new HubException(response.uri() + " answered without a usable ETag: is HF_ENDPOINT ("
                        + settings.endpoint() + ") a Hugging Face Hub?"));
        long size = response.headers().firstValue("X-Linked-Size").or(() -> response.headers().firstValue("Content-Length"))
                .map(Long::parseLong)
                .orElseThrow(() -> new HubException(response.uri() + " answered without the file's size"));
        return new FileMetadata(file, etag, size, location);
    }

    /** GET the content from byte {@code from} on, following redirects; the token goes to the Hub's own host only. */
    HttpResponse<InputStream> download(FileMetadata file, long from) throws IOException, InterruptedException {
        URI uri = file.location();
        for (int redirects = 0; ; redirects++) {
            HttpRequest.Builder request = request(uri).GET();
            if (from > 0) {
                request.header("Range", "bytes=" + from + "-");
            }
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            Optional<String> location = response.headers().firstValue("Location");
            if (response.statusCode() / 100 != 3 || location.isEmpty() || redirects == MAX_REDIRECTS) {
                return response;
            }
            response.body().close();
            uri = uri.resolve(location.get());
        }
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(RESPONSE_TIMEOUT)
                .header("User-Agent", "resident")
                // sizes and hashes are those of the stored bytes, never of a compressed transfer
                .header("Accept-Encoding", "identity");
        if (settings.token().isPresent() && sameOrigin(uri, settings.endpoint())) {
            request.header("Authorization", "Bearer " + settings.token().get());
        }
        return request;
    }

    /** Turns a refusal of the Hub into a message that says what to do; huggingface_hub reads the same X-Error-Code values. */
    HubException failure(HttpResponse<?> response, HubId id, String file) {
        if (response.body() instanceof InputStream body) {
            try {
                body.close();
            } catch (IOException ignored) {
                // the connection is dropped either way
            }
        }
        int status = response.statusCode();
        String code = response.headers().firstValue("X-Error-Code").orElse("");
        String hubSays = response.headers().firstValue("X-Error-Message").map(m -> " (the Hub says: " + m + ")").orElse("");
        String page = settings.endpoint() + "/" + id.repo();
        boolean token = settings.token().isPresent();
        String message;
        if (code.equals("GatedRepo")) {
            message = token
                    ? id.repo() + " is a gated model and the account of HF_TOKEN has no access yet: accept its conditions at " + page
                    : id.repo() + " is a gated model: accept its conditions at " + page
                            + ", then set HF_TOKEN to an access token of that account";
        } else if (code.equals("RepoNotFound") || (status == 404 && file == null && code.isEmpty())) {
            message = id.repo() + " was not found on " + settings.endpoint() + ": check the id"
                    + (token ? "" : " (a private model also needs HF_TOKEN)");
        } else if (code.equals("RevisionNotFound")) {
            message = "Revision '" + id.revision() + "' of " + id.repo() + " was not found on " + settings.endpoint();
        } else if (status == 404) {
            message = (file == null ? id.repo() : file + " of " + id.repo()) + " was not found at " + response.uri();
        } else if (status == 401 || status == 403) {
            message = token
                    ? "HF_TOKEN was refused (HTTP " + status + ") for " + id.repo() + ": check that the token is valid and may read " + page
                    : id.repo() + " needs authentication (HTTP " + status + "): set HF_TOKEN to an access token that may read " + page;
        } else if (status == 429) {
            message = settings.endpoint() + " is rate-limiting downloads (HTTP 429): wait a while"
                    + (token ? "" : ", or set HF_TOKEN, which raises the limit");
        } else {
            message = settings.endpoint() + " answered HTTP " + status + " for " + response.uri();
        }
        return new HubException(message + hubSays);
    }

    // huggingface_hub drops the weak marker and the quotes the same way
    private static String normalizeEtag(String etag) {
        String value = etag.startsWith("W/") ? etag.substring(2) : etag;
        return value.replace("\"", "");
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost())
                && a.getPort() == b.getPort();
    }

    // a revision such as refs/pr/1 is one path segment, as in huggingface_hub's quote(revision, safe="")
    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
