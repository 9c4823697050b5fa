package io.resident.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writes a model into a hub cache exactly as Python's huggingface_hub does, written independently of RepoCache. */
final class PythonCache {

    private PythonCache() {
    }

    /** models--org--name/{blobs/&lt;etag&gt;, snapshots/&lt;commit&gt;/&lt;file&gt; -&gt; ../../blobs/&lt;etag&gt;, refs/main}; returns the snapshot. */
    static Path write(Path hubCache, String id, String commit, Map<String, byte[]> files) throws IOException {
        Path repo = hubCache.resolve("models--" + id.replace("/", "--"));
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        for (var file : files.entrySet()) {
            String etag = FakeHub.isLfs(file.getKey()) ? Hashes.sha256(file.getValue()) : Hashes.gitBlobSha1(file.getValue());
            Files.write(blobs.resolve(etag), file.getValue());
            Files.createSymbolicLink(snapshot.resolve(file.getKey()), Path.of("../../blobs").resolve(etag));
        }
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        return snapshot;
    }
}
