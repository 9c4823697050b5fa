package io.resident.hub;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Turns RESIDENT_MODEL into a model directory: a directory as it is; a Hugging Face id (org/name[@revision])
 * from the shared Hugging Face cache, downloading what is missing from the Hub; unset or "demo" as the demo
 * model. A named model that cannot be had (offline, no network) is an error, never the demo model in its place.
 */
public class ModelResolver {

    private static final Logger LOG = Logger.getLogger(ModelResolver.class);

    private final HubSettings settings;
    private final MeterRegistry registry;
    private final HubClient client;
    private final Map<String, DownloadProgress> progress = new ConcurrentHashMap<>();

    /**
     * @param settings usually {@code HubSettings.fromEnv(System.getenv())}
     * @param registry where download meters go, e.g. the service's registry or Metrics.globalRegistry
     */
    public ModelResolver(HubSettings settings, MeterRegistry registry) {
        this.settings = settings;
        this.registry = registry;
        this.client = new HubClient(settings);
    }

    /**
     * @param spec RESIDENT_MODEL: null, blank or "demo"; a directory; or org/name[@revision]
     * @throws HubException when the model cannot be served, with a message that says why
     */
    public synchronized Resolved resolve(String spec) {
        if (spec == null || spec.isBlank()) {
            return demo("RESIDENT_MODEL is not set");
        }
        String model = spec.strip();
        if (model.equalsIgnoreCase("demo")) {
            return demo("RESIDENT_MODEL=demo");
        }
        try {
            Path directory = expandHome(model);
            if (Files.isDirectory(directory)) {
                return local(directory.toAbsolutePath().normalize());
            }
            if (looksLikePath(model)) {
                throw new HubException("RESIDENT_MODEL=" + model + " is not a directory on this machine");
            }
            return fromHub(HubId.parse(model));
        } catch (IOException e) {
            throw new HubException("Cannot read the model files of " + model + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("Interrupted while resolving " + model, e);
        }
    }

    private Resolved local(Path directory) throws IOException {
        CheckpointFiles.select("The directory " + directory, fileNames(directory),
                () -> Files.readAllBytes(directory.resolve(CheckpointFiles.INDEX)));
        LOG.infof("Model: the directory %s", directory);
        return new Resolved.Local(directory, "directory");
    }

    private Resolved fromHub(HubId id) throws IOException, InterruptedException {
        RepoCache cache = new RepoCache(settings.hubCache(), id.repo());
        Optional<Path> cached = cachedSnapshot(cache, id);
        if (cached.isPresent()) {
            LOG.infof("Model: %s from the Hugging Face cache, %s", id, cached.get());
            return new Resolved.Local(cached.get(), "Hugging Face cache");
        }
        String notCached = id + " is not in the Hugging Face cache (" + cache.root() + ")";
        if (settings.offline()) {
            throw new HubException(notCached + " and HF_HUB_OFFLINE is set, so it cannot be downloaded;"
                    + " download it first, or unset HF_HUB_OFFLINE");
        }
        HubClient.RepoInfo info;
        try {
            info = client.repoInfo(id);
        } catch (IOException e) {
            throw new HubException(notCached + " and " + settings.endpoint() + " cannot be reached (" + reason(e)
                    + "); check the network, a proxy, or HF_ENDPOINT for a mirror", e);
        }
        Path snapshot;
        try {
            snapshot = new SnapshotDownload(client, cache, id, info.commit(), progressOf(id)).run(info.files());
        } catch (IOException e) {
            throw new HubException("Downloading " + id + " from " + settings.endpoint() + " failed (" + reason(e)
                    + "); start again to resume", e);
        }
        cache.writeRef(id.revision(), info.commit());
        LOG.infof("Model: %s from %s, %s", id, settings.endpoint(), snapshot);
        return new Resolved.Local(snapshot, "Hugging Face Hub");
    }

    /** A snapshot that already holds config.json and all safetensors weights is used without asking the Hub. */
    private static Optional<Path> cachedSnapshot(RepoCache cache, HubId id) throws IOException {
        Optional<String> commit = cache.commit(id.revision());
        if (commit.isEmpty()) {
            return Optional.empty();
        }
        Path snapshot = cache.snapshot(commit.get());
        if (!Files.isDirectory(snapshot)) {
            return Optional.empty();
        }
        boolean complete = CheckpointFiles.complete(id.toString(), fileNames(snapshot),
                () -> Files.readAllBytes(snapshot.resolve(CheckpointFiles.INDEX)));
        return complete ? Optional.of(snapshot) : Optional.empty();
    }

    private DownloadProgress progressOf(HubId id) {
        return progress.computeIfAbsent(id.repo(), repo -> new DownloadProgress(repo, registry));
    }

    private static Resolved demo(String reason) {
        LOG.infof("Serving the demo model: %s", reason);
        return new Resolved.Demo(reason);
    }

    // names of the files that are there (a dangling snapshot symlink is not)
    private static List<String> fileNames(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(Files::isRegularFile).map(file -> file.getFileName().toString()).toList();
        }
    }

    private static Path expandHome(String path) {
        return path.equals("~") || path.startsWith("~/")
                ? Path.of(System.getProperty("user.home") + path.substring(1))
                : Path.of(path);
    }

    // an id has at most one '/' before its revision; anything else was meant as a path
    private static boolean looksLikePath(String spec) {
        int at = spec.indexOf('@');
        String name = at < 0 ? spec : spec.substring(0, at);
        return name.startsWith("/") || name.startsWith(".") || name.startsWith("~") || name.contains("\\")
                || name.indexOf('/') != name.lastIndexOf('/');
    }

    // the JDK's connection errors often carry their message on a cause, or none at all
    private static String reason(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause.getMessage() != null && !cause.getMessage().isBlank()) {
                return cause.getClass().getSimpleName() + ": " + cause.getMessage();
            }
        }
        return e.getClass().getSimpleName();
    }
}
