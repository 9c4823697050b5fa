package io.resident.hub;

import io.resident.hub.HubClient.FileMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jboss.logging.Logger;

/**
 * Brings one commit of a model into the cache: the files resident needs are fetched several at once
 * into blobs/, each resumed from its .incomplete file, checked against its etag and moved in place
 * whole; the snapshot's symlinks are made only once every blob is there.
 */
final class SnapshotDownload {

    private static final Logger LOG = Logger.getLogger(SnapshotDownload.class);
    private static final int PARALLEL_FILES = 4;
    private static final int ATTEMPTS = 4;
    private static final Duration RETRY_PAUSE = Duration.ofMillis(500);

    private final HubClient client;
    private final RepoCache cache;
    private final HubId id;
    private final String commit;
    private final DownloadProgress progress;

    SnapshotDownload(HubClient client, RepoCache cache, HubId id, String commit, DownloadProgress progress) {
        this.client = client;
        this.cache = cache;
        this.id = id;
        this.commit = commit;
        this.progress = progress;
    }

    /** Fetches what the snapshot lacks among the files resident needs from a repository with these files. */
    Path run(List<String> repoFiles) throws IOException, InterruptedException {
        Path snapshot = cache.snapshot(commit);
        Map<String, FileMetadata> toLink = new LinkedHashMap<>();
        byte[] index = null;
        if (repoFiles.contains(CheckpointFiles.INDEX)) {
            index = readIndex(snapshot, toLink);
        }
        byte[] indexBytes = index;
        List<String> missing = CheckpointFiles.select(id.toString(), repoFiles, () -> indexBytes).stream()
                .filter(file -> !toLink.containsKey(file) && !Files.exists(snapshot.resolve(file)))
                .toList();
        for (FileMetadata file : inParallel(missing, file -> client.metadata(id, commit, file))) {
            toLink.put(file.file(), file);
        }
        fetchAll(toLink.values());
        for (FileMetadata file : toLink.values()) {
            cache.link(commit, file.file(), file.etag());
        }
        return snapshot;
    }

    // the index decides which shards to fetch, so it comes first; it is linked with the others at the end
    private byte[] readIndex(Path snapshot, Map<String, FileMetadata> toLink) throws IOException, InterruptedException {
        Path cached = snapshot.resolve(CheckpointFiles.INDEX);
        if (Files.exists(cached)) {
            return Files.readAllBytes(cached);
        }
        FileMetadata index = client.metadata(id, commit, CheckpointFiles.INDEX);
        toLink.put(index.file(), index);
        return Files.readAllBytes(fetch(index));
    }

    private void fetchAll(Iterable<FileMetadata> files) throws IOException, InterruptedException {
        // files with the same content share one blob
        Map<String, FileMetadata> byEtag = new LinkedHashMap<>();
        files.forEach(file -> byEtag.putIfAbsent(file.etag(), file));
        List<FileMetadata> absent = byEtag.values().stream().filter(file -> !Files.exists(cache.blob(file.etag()))).toList();
        if (absent.isEmpty()) {
            return;
        }
        long total = 0;
        long resumed = 0;
        for (FileMetadata file : absent) {
            total += file.size();
            resumed += partialSize(file);
        }
        Files.createDirectories(cache.blobs());
        long free = Files.getFileStore(cache.blobs()).getUsableSpace();
        if (total - resumed > free) {
            throw new HubException(id + " needs " + DownloadProgress.size(total - resumed) + " more in " + cache.root()
                    + " but that disk has only " + DownloadProgress.size(free) + " free: free some space or point HF_HOME"
                    + " (or HF_HUB_CACHE) at a larger disk");
        }
        LOG.infof("Downloading %s (commit %s) from the Hub into %s: %d files, %s%s", id, commit, cache.root(),
                absent.size(), DownloadProgress.size(total),
                resumed > 0 ? ", resuming after " + DownloadProgress.size(resumed) : "");
        progress.start(total, resumed);
        inParallel(absent, this::fetch);
        progress.finish();
    }

    /** The blob of one file, downloaded unless it is already in the cache. */
    private Path fetch(FileMetadata file) throws IOException, InterruptedException {
        Path blob = cache.blob(file.etag());
        if (Files.exists(blob)) {
            return blob;
        }
        Files.createDirectories(cache.blobs());
        try (FileChannel lock = cache.lock(file.etag())) {
            if (Files.exists(blob)) {
                return blob; // another process finished it while we waited
            }
            Path partial = cache.incomplete(file.etag());
            for (int attempt = 1; ; attempt++) {
                try {
                    transfer(file, partial);
                    break;
                } catch (IOException e) {
                    long have = partialSize(file);
                    if (attempt == ATTEMPTS) {
                        throw new HubException("The download of " + file.file() + " of " + id + " broke off at "
                                + DownloadProgress.size(have) + " of " + DownloadProgress.size(file.size()) + " (" + e
                                + "); start again to resume it", e);
                    }
                    LOG.warnf("The download of %s broke off at %s of %s (%s); resuming", file.file(),
                            DownloadProgress.size(have), DownloadProgress.size(file.size()), e.toString());
                    Thread.sleep(RETRY_PAUSE.multipliedBy(attempt));
                }
            }
            Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
            return blob;
        }
    }

    /** Completes the .incomplete file from where it stops and checks it; IOException means try again. */
    private void transfer(FileMetadata file, Path partial) throws IOException, InterruptedException {
        long have = partialSize(file);
        if (have > file.size()) {
            discard(partial, have);
            have = 0;
        }
        BlobChecksum checksum = new BlobChecksum(file.etag(), file.size());
        if (have > 0) {
            checksum.update(partial);
        }
        if (have < file.size()) {
            have = receive(file, partial, have, checksum);
        }
        if (have != file.size()) {
            throw new IOException("the connection closed after " + have + " of " + file.size() + " bytes");
        }
        String actual = checksum.actual();
        if (!actual.equals(file.etag())) {
            discard(partial, have);
            throw new HubException(file.file() + " of " + id + " arrived corrupt: its " + checksum.kind() + " is " + actual
                    + " but the Hub lists " + file.etag() + ". The download was thrown away; start again to fetch it"
                    + " afresh (if this repeats, a proxy or the HF_ENDPOINT mirror alters files)");
        }
    }

    private long receive(FileMetadata file, Path partial, long have, BlobChecksum checksum) throws IOException, InterruptedException {
        HttpResponse<InputStream> response = client.download(file, have);
        int status = response.statusCode();
        if (status == 200 && have > 0) {
            // the server ignored the range: start the file again
            discard(partial, have);
            checksum.restart();
            have = 0;
        } else if (status == 206 && !response.headers().firstValue("Content-Range").orElse("").startsWith("bytes " + have + "-")
                || status == 416) {
            response.body().close();
            discard(partial, have);
            throw new IOException("the server could not resume at byte " + have + " (HTTP " + status + ")");
        } else if (status >= 500) {
            response.body().close();
            throw new IOException(response.uri().getHost() + " answered HTTP " + status);
        } else if (status != 200 && status != 206) {
            throw client.failure(response, id, file.file());
        }
        // only reading the network may fail and be retried; a failing disk ends the download at once
        try (InputStream body = response.body(); OutputStream out = open(partial, have, file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = body.read(buffer)) > 0; ) {
                if (have + n > file.size()) {
                    throw new HubException(response.uri() + " sent more than the " + file.size() + " bytes the Hub announced for "
                            + file.file());
                }
                write(out, buffer, n, file);
                checksum.update(buffer, 0, n);
                have += n;
                progress.transferred(n);
            }
        }
        return have;
    }

    private OutputStream open(Path partial, long have, FileMetadata file) {
        try {
            return Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    have == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw cannotWrite(file, e);
        }
    }

    private void write(OutputStream out, byte[] buffer, int length, FileMetadata file) {
        try {
            out.write(buffer, 0, length);
        } catch (IOException e) {
            throw cannotWrite(file, e);
        }
    }

    private HubException cannotWrite(FileMetadata file, IOException e) {
        if (String.valueOf(e.getMessage()).contains("No space left on device")) {
            return new HubException("The disk of " + cache.root() + " is full while downloading " + file.file() + " of " + id
                    + ": free some space or point HF_HOME (or HF_HUB_CACHE) at a larger disk, then start again to resume", e);
        }
        return new HubException("Cannot write " + file.file() + " of " + id + " into " + cache.blobs() + ": " + e, e);
    }

    private long partialSize(FileMetadata file) throws IOException {
        Path partial = cache.incomplete(file.etag());
        return Files.exists(partial) ? Files.size(partial) : 0;
    }

    private void discard(Path partial, long bytes) throws IOException {
        Files.deleteIfExists(partial);
        progress.discarded(bytes);
    }

    /** Runs a task per item on a few threads; the first failure stops the others and is thrown. */
    private <T, R> List<R> inParallel(List<T> items, Task<T, R> task) throws IOException, InterruptedException {
        List<R> results = new ArrayList<>(items.size());
        if (items.isEmpty()) {
            return results;
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL_FILES, items.size()),
                Thread.ofPlatform().name("resident-download-", 1).daemon().factory())) {
            CompletionService<R> completed = new ExecutorCompletionService<>(pool);
            List<Future<R>> futures = new ArrayList<>();
            for (T item : items) {
                futures.add(completed.submit(() -> task.run(item)));
            }
            try {
                for (int i = 0; i < items.size(); i++) {
                    completed.take().get();
                }
                for (Future<R> future : futures) {
                    results.add(future.resultNow());
                }
                return results;
            } catch (ExecutionException e) {
                pool.shutdownNow();
                throw rethrow(e.getCause());
            } catch (InterruptedException e) {
                pool.shutdownNow();
                throw e;
            }
        }
    }

    private static IOException rethrow(Throwable cause) throws InterruptedException {
        if (cause instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        if (cause instanceof InterruptedException interrupted) {
            throw interrupted;
        }
        return cause instanceof IOException io ? io : new IOException(cause);
    }

    @FunctionalInterface
    private interface Task<T, R> {
        R run(T item) throws IOException, InterruptedException;
    }
}
