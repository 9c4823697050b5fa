package io.resident.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One model's folder in the hub cache, laid out as Python's huggingface_hub lays it out, so both reuse
 * each other's downloads: blobs/&lt;etag&gt; holds file contents, snapshots/&lt;commit&gt;/&lt;file&gt; are relative
 * symlinks to ../../blobs/&lt;etag&gt;, refs/&lt;revision&gt; holds the commit a branch or tag pointed to.
 */
final class RepoCache {

    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path root;
    private final Path locks;

    RepoCache(Path hubCache, String repo) {
        String folder = "models--" + repo.replace("/", "--");
        this.root = hubCache.resolve(folder);
        this.locks = hubCache.resolve(".locks").resolve(folder);
    }

    static boolean isCommit(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    Path root() {
        return root;
    }

    /** The commit a revision stands for here: itself when it is a commit hash, else what refs/&lt;revision&gt; holds. */
    Optional<String> commit(String revision) throws IOException {
        if (isCommit(revision)) {
            return Optional.of(revision);
        }
        Path ref = root.resolve("refs").resolve(revision);
        return Files.isRegularFile(ref) ? Optional.of(Files.readString(ref).strip()).filter(RepoCache::isCommit) : Optional.empty();
    }

    void writeRef(String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = root.resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Path temp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
        Files.writeString(temp, commit);
        Files.move(temp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    Path snapshot(String commit) {
        return root.resolve("snapshots").resolve(commit);
    }

    Path blobs() {
        return root.resolve("blobs");
    }

    Path blob(String etag) {
        return blobs().resolve(etag);
    }

    /** Where a blob grows while it downloads; huggingface_hub resumes from the same file. */
    Path incomplete(String etag) {
        return blobs().resolve(etag + ".incomplete");
    }

    /** Points snapshots/&lt;commit&gt;/&lt;file&gt; at a complete blob with a relative symlink. */
    void link(String commit, String file, String etag) throws IOException {
        Path pointer = snapshot(commit).resolve(file);
        Files.createDirectories(pointer.getParent());
        Files.deleteIfExists(pointer);
        Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob(etag)));
    }

    /** Holds other processes off a blob while it downloads (the lock file huggingface_hub uses); closing releases it. */
    FileChannel lock(String etag) throws IOException {
        Files.createDirectories(locks);
        FileChannel channel = FileChannel.open(locks.resolve(etag + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            channel.lock();
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }
}
