package io.resident.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.ServiceProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RESIDENT_MODEL as a Hugging Face id: the packaged service downloads it from a Hub at startup, then serves it. */
class HubDownloadIT {

    private static final String ID = "test-org/chatglm3-6b-tiny";

    @TempDir
    Path temp;

    @Test
    void aHubIdIsDownloadedIntoTheSharedCacheAndServed() throws Exception {
        Map<String, byte[]> files = HubFixture.files(HubFixture.chatglm3Tiny());
        String commit = Hashes.gitBlobSha1("a commit".getBytes(StandardCharsets.UTF_8));
        Path hfHome = temp.resolve("hf");
        try (FakeHub hub = new FakeHub()) {
            hub.add(new FakeHub.Repo(ID, commit, files, false));
            Map<String, String> env = Map.of("RESIDENT_MODEL", ID, "HF_ENDPOINT", hub.endpoint().toString(), "HF_HOME", hfHome.toString());
            try (ServiceProcess service = ServiceProcess.start(env, temp)) {
                service.awaitReady();

                assertTrue(service.get("/q/health/ready").contains("\"id\": \"" + ID + "\""), service.output());
                assertTrue(service.output().matches("(?s).*Downloaded " + ID + ": [0-9.]+ kB in \\d+s, [0-9.]+ MB/s.*"), service.output());
                String metrics = service.get("/q/metrics");
                assertTrue(metrics.contains("resident_model_download_progress{model=\"" + ID + "\"} 1.0"), metrics);
                Path snapshot = hfHome.resolve("hub/models--test-org--chatglm3-6b-tiny/snapshots").resolve(commit);
                for (var file : files.entrySet()) {
                    assertArrayEquals(file.getValue(), Files.readAllBytes(snapshot.resolve(file.getKey())), file.getKey());
                }
            }
        }
    }
}
