package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The native companion is optional: a missing or foreign library leaves the pure-DJL path with a reason, never a crash. */
class NativeOpsTest {

    @Test
    void aMissingLibraryNamesTheCommandThatBuildsIt(@TempDir Path dir) {
        NativeOps.Status status = NativeOps.load(dir.resolve("libresident_native.so"));
        assertFalse(status.loaded());
        assertTrue(status.reason().endsWith("libresident_native.so not found (build it with src/main/cpp/build.sh, or set"
                + " RESIDENT_NATIVE_LIBRARY to its path)"), status.reason());
    }

    @Test
    void aFileThatDoesNotLinkIsRefusedWithTheRebuildCommand(@TempDir Path dir) throws IOException {
        Path foreign = Files.writeString(dir.resolve("libresident_native.so"), "not a library built for this libtorch");
        NativeOps.Status status = NativeOps.load(foreign);
        assertFalse(status.loaded());
        assertTrue(status.reason().contains(" refused: it does not link against the libtorch DJL loaded ("), status.reason());
        assertTrue(status.reason().endsWith("rebuild it with src/main/cpp/build.sh against that libtorch"), status.reason());
    }
}
