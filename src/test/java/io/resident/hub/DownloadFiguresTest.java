package io.resident.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The figures of the progress log and the checks of downloaded bytes. */
class DownloadFiguresTest {

    @Test
    void progressLineGivesPercentSpeedAndEta() {
        // 6 of 15 GB on disk, 4 GB of it fetched in this run in 50 s: 80 MB/s, 9 GB left take 112.5 s
        String line = DownloadProgress.describe(6_000_000_000L, 15_000_000_000L, 4_000_000_000L, Duration.ofSeconds(50));

        assertEquals("40% of 15.0 GB, 80.0 MB/s, ETA 1m 53s", line);
        assertEquals("ETA 1h 05m", DownloadProgress.describe(0, 3_900_000_000L, 1_000_000, Duration.ofSeconds(1)).split(", ")[2]);
        assertEquals("0% of 2.5 MB, 0.0 MB/s, ETA unknown", DownloadProgress.describe(0, 2_500_000, 0, Duration.ZERO));
    }

    @Test
    void aRegularFileIsCheckedAgainstItsGitBlobSha1() {
        byte[] hello = "hello\n".getBytes(StandardCharsets.UTF_8);
        // what `git hash-object` prints for this content
        BlobChecksum checksum = new BlobChecksum("ce013625030ba8dba906f756967f9e9ca394464a", hello.length);
        checksum.update(hello, 0, hello.length);

        assertEquals("ce013625030ba8dba906f756967f9e9ca394464a", checksum.actual());
    }

    @Test
    void anLfsFileIsCheckedAgainstItsSha256() {
        byte[] hello = "hello\n".getBytes(StandardCharsets.UTF_8);
        BlobChecksum checksum = new BlobChecksum("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", hello.length);
        checksum.update(hello, 0, 3);
        checksum.update(hello, 3, 3);

        assertTrue(checksum.checkable());
        assertEquals("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", checksum.actual());
    }

    @Test
    void anEtagThatIsNoHashCannotBeChecked() {
        assertFalse(new BlobChecksum("d41d8cd98f00b204e9800998ecf8427e-3", 10).checkable());
    }
}
