package io.resident.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Checks downloaded bytes against the etag the Hub gave: an LFS file's etag is its sha256, a regular
 * file's is its git blob sha1 (sha1 of "blob &lt;size&gt;\0" and the content). Another etag (some mirrors)
 * cannot be checked and always matches.
 */
final class BlobChecksum {

    private final String expected;
    private final String algorithm;
    private final long size;
    private MessageDigest digest;

    BlobChecksum(String etag, long size) {
        this.expected = etag;
        this.size = size;
        this.algorithm = etag.matches("[0-9a-f]{64}") ? "SHA-256" : etag.matches("[0-9a-f]{40}") ? "SHA-1" : null;
        restart();
    }

    boolean checkable() {
        return algorithm != null;
    }

    /** What the etag is, for messages. */
    String kind() {
        return "SHA-256".equals(algorithm) ? "sha256" : "git blob sha1";
    }

    /** Forgets what was hashed so far, for a download that starts again from byte 0. */
    void restart() {
        if (algorithm == null) {
            return;
        }
        try {
            digest = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has " + algorithm, e);
        }
        if (algorithm.equals("SHA-1")) {
            digest.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
        }
    }

    void update(byte[] bytes, int offset, int length) {
        if (digest != null) {
            digest.update(bytes, offset, length);
        }
    }

    /** Hashes the part of a file already on disk, before a download resumes after it. */
    void update(Path file) throws IOException {
        if (digest == null) {
            return;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
    }

    /** The hash of what was fed in (ends this checksum); equal to the etag when the bytes are right. */
    String actual() {
        return digest == null ? expected : HexFormat.of().formatHex(digest.digest());
    }
}
