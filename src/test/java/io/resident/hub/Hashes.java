package io.resident.hub;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The two hashes the Hub uses as etags, computed independently of the code under test. */
final class Hashes {

    private Hashes() {
    }

    static String sha256(byte[] content) {
        return hex("SHA-256", new byte[0], content);
    }

    /** What `git hash-object` prints: sha1 over "blob <size>\0" and the content. */
    static String gitBlobSha1(byte[] content) {
        return hex("SHA-1", ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII), content);
    }

    private static String hex(String algorithm, byte[] prefix, byte[] content) {
        try {
            MessageDigest digest = MessageDigest.getInstance(algorithm);
            digest.update(prefix);
            return HexFormat.of().formatHex(digest.digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
