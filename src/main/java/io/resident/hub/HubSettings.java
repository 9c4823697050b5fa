package io.resident.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where the Hugging Face cache lives and how the Hub is reached, read from the same environment
 * variables Python's huggingface_hub reads, so both share one cache.
 *
 * @param hubCache the hub cache folder holding models--org--name/
 * @param endpoint the Hub or a mirror of it, without a trailing slash
 * @param token    an access token for gated and private models
 * @param offline  use the cache only, never the network
 */
public record HubSettings(Path hubCache, URI endpoint, Optional<String> token, boolean offline) {

    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    // huggingface_hub's notion of a true environment flag
    private static final Set<String> TRUE = Set.of("1", "on", "yes", "true");

    public HubSettings {
        String text = endpoint.toString();
        if (text.endsWith("/")) {
            endpoint = URI.create(text.substring(0, text.length() - 1));
        }
    }

    public static HubSettings fromEnv(Map<String, String> env) {
        Path home = Path.of(System.getProperty("user.home"));
        Path hfHome = value(env, "HF_HOME")
                .map(p -> expandHome(p, home))
                .orElseGet(() -> value(env, "XDG_CACHE_HOME").map(p -> expandHome(p, home))
                        .orElse(home.resolve(".cache")).resolve("huggingface"));
        Path hubCache = value(env, "HF_HUB_CACHE").map(p -> expandHome(p, home)).orElse(hfHome.resolve("hub"));
        URI endpoint = URI.create(value(env, "HF_ENDPOINT").orElse(DEFAULT_ENDPOINT));
        Path tokenFile = value(env, "HF_TOKEN_PATH").map(p -> expandHome(p, home)).orElse(hfHome.resolve("token"));
        Optional<String> token = value(env, "HF_TOKEN").or(() -> readToken(tokenFile));
        boolean offline = value(env, "HF_HUB_OFFLINE").map(v -> TRUE.contains(v.toLowerCase(Locale.ROOT))).orElse(false);
        return new HubSettings(hubCache, endpoint, token, offline);
    }

    private static Optional<String> value(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).map(String::strip).filter(v -> !v.isEmpty());
    }

    private static Path expandHome(String path, Path home) {
        return path.equals("~") ? home : path.startsWith("~/") ? home.resolve(path.substring(2)) : Path.of(path);
    }

    // `huggingface-cli login` stores the token in this file
    private static Optional<String> readToken(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(file).strip()).filter(t -> !t.isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the Hugging Face token file " + file, e);
        }
    }

    @Override
    public String toString() {
        // never print the token itself
        return "HubSettings[hubCache=" + hubCache + ", endpoint=" + endpoint + ", token="
                + (token.isPresent() ? "set" : "unset") + ", offline=" + offline + "]";
    }
}
