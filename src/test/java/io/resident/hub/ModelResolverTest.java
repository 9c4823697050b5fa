package io.resident.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.resident.hub.FakeHub.Request;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelResolverTest {

    private static final String ID = "test-org/chatglm3-6b-tiny";
    private static final String COMMIT = Hashes.gitBlobSha1("a commit".getBytes(StandardCharsets.UTF_8));
    private static final String SHARD_1 = "model-00001-of-00002.safetensors";
    private static final String SHARD_2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path temp;

    private final Map<String, byte[]> files = HubFixture.files(HubFixture.chatglm3Tiny());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private FakeHub hub;
    private Path cache;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        hub.add(new FakeHub.Repo(ID, COMMIT, files, false));
        cache = temp.resolve("hub");
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private ModelResolver resolver(boolean offline) {
        return new ModelResolver(new HubSettings(cache, hub.endpoint(), Optional.empty(), offline), registry);
    }

    private ModelResolver resolver() {
        return resolver(false);
    }

    private Path repoFolder() {
        return cache.resolve("models--test-org--chatglm3-6b-tiny");
    }

    private static String blobName(String file, byte[] content) {
        return FakeHub.isLfs(file) ? Hashes.sha256(content) : Hashes.gitBlobSha1(content);
    }

    private static Path directory(Resolved resolved) {
        return assertInstanceOf(Resolved.Local.class, resolved).directory();
    }

    @Test
    void downloadsIntoTheLayoutPythonsHuggingfaceHubUses() throws IOException {
        hub.gatherCdnDownloads(3);

        Path snapshot = directory(resolver().resolve(ID));

        Path folder = repoFolder();
        assertEquals(folder.resolve("snapshots").resolve(COMMIT), snapshot);
        assertEquals(COMMIT, Files.readString(folder.resolve("refs/main")));
        for (var file : files.entrySet()) {
            Path link = snapshot.resolve(file.getKey());
            assertTrue(Files.isSymbolicLink(link), file.getKey() + " is a symlink");
            assertEquals(Path.of("../../blobs", blobName(file.getKey(), file.getValue())), Files.readSymbolicLink(link));
            assertArrayEquals(file.getValue(), Files.readAllBytes(link), file.getKey());
        }
        try (Stream<Path> blobs = Files.list(folder.resolve("blobs"))) {
            assertEquals(files.size(), blobs.filter(b -> !b.toString().endsWith(".incomplete")).count());
        }
        // both shards and tokenizer.model came from the CDN at the same time
        assertEquals(3, hub.mostCdnDownloadsAtOnce());
        long total = files.values().stream().mapToLong(c -> c.length).sum();
        assertEquals(total, registry.get("resident.model.download.bytes").tag("model", ID).counter().count());
        assertEquals(1.0, registry.get("resident.model.download.progress").tag("model", ID).gauge().value());

        int before = hub.requests().size();
        assertEquals(snapshot, directory(resolver().resolve(ID)));
        assertEquals(before, hub.requests().size(), "a cached model is served without asking the Hub");
    }

    @Test
    void resumesADownloadThatBrokeOffWithARangeRequest() throws IOException {
        byte[] shard = files.get(SHARD_1);
        hub.dropOnceAfter(shard, 100_000);

        Path snapshot = directory(resolver().resolve(ID));

        assertArrayEquals(shard, Files.readAllBytes(snapshot.resolve(SHARD_1)));
        List<String> ranges = hub.requests("cdn").stream()
                .filter(r -> r.path().endsWith(Hashes.sha256(shard))).map(Request::range).toList();
        assertEquals(2, ranges.size(), ranges.toString());
        assertNull(ranges.get(0), "the first request asks for the whole file");
        // the hang-up can lose bytes still in flight, so the resume starts where the client's bytes end, at most 100,000
        Matcher resume = Pattern.compile("bytes=(\\d+)-").matcher(ranges.get(1));
        assertTrue(resume.matches() && Long.parseLong(resume.group(1)) > 0 && Long.parseLong(resume.group(1)) <= 100_000, ranges.toString());
        long total = files.values().stream().mapToLong(c -> c.length).sum();
        assertEquals(total, registry.get("resident.model.download.bytes").counter().count(), "no byte was fetched twice");
    }

    @Test
    void resumesTheIncompleteFileAnEarlierRunLeft() throws IOException {
        byte[] shard = files.get(SHARD_2);
        Path blobs = Files.createDirectories(repoFolder().resolve("blobs"));
        Files.write(blobs.resolve(Hashes.sha256(shard) + ".incomplete"), Arrays.copyOf(shard, 60_000));

        Path snapshot = directory(resolver().resolve(ID));

        assertArrayEquals(shard, Files.readAllBytes(snapshot.resolve(SHARD_2)));
        List<String> ranges = hub.requests("cdn").stream()
                .filter(r -> r.path().endsWith(Hashes.sha256(shard))).map(Request::range).toList();
        assertEquals(List.of("bytes=60000-"), ranges);
        assertFalse(Files.exists(blobs.resolve(Hashes.sha256(shard) + ".incomplete")));
    }

    @Test
    void aCorruptBlobIsThrownAwayAndNothingEntersTheSnapshot() {
        byte[] shard = files.get(SHARD_2);
        hub.corrupt(shard);

        HubException error = assertThrows(HubException.class, () -> resolver().resolve(ID));

        assertTrue(error.getMessage().contains(SHARD_2 + " of " + ID + " arrived corrupt: its sha256 is "), error.getMessage());
        assertTrue(error.getMessage().contains("the Hub lists " + Hashes.sha256(shard)), error.getMessage());
        assertFalse(Files.exists(repoFolder().resolve("snapshots")), "no snapshot folder");
        assertFalse(Files.exists(repoFolder().resolve("blobs").resolve(Hashes.sha256(shard))));
        assertFalse(Files.exists(repoFolder().resolve("blobs").resolve(Hashes.sha256(shard) + ".incomplete")));
    }

    @Test
    void offlineUsesTheCacheOnly() throws IOException {
        HubException missing = assertThrows(HubException.class, () -> resolver(true).resolve(ID));

        String reason = missing.getMessage();
        assertTrue(reason.contains(ID + " is not in the Hugging Face cache") && reason.contains("HF_HUB_OFFLINE"), reason);

        Path snapshot = PythonCache.write(cache, ID, COMMIT, files);
        assertEquals(snapshot, directory(resolver(true).resolve(ID)));
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void anUnreachableHubIsAnErrorWithTheReasonNeverTheDemoModel() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        URI nowhere = URI.create("http://127.0.0.1:" + closedPort);

        var resolver = new ModelResolver(new HubSettings(cache, nowhere, Optional.empty(), false), registry);

        String reason = assertThrows(HubException.class, () -> resolver.resolve(ID)).getMessage();
        assertTrue(reason.startsWith(ID + " is not in the Hugging Face cache") && reason.contains(nowhere + " cannot be reached"), reason);
    }

    @Test
    void aGatedModelAsksForHfTokenAndWorksWithIt() throws IOException {
        hub.add(new FakeHub.Repo("gated-org/tiny", COMMIT, files, true));

        HubException error = assertThrows(HubException.class, () -> resolver().resolve("gated-org/tiny"));
        assertTrue(error.getMessage().startsWith("gated-org/tiny is a gated model: accept its conditions at "
                + hub.endpoint() + "/gated-org/tiny, then set HF_TOKEN"), error.getMessage());

        var withTokenSet = new ModelResolver(new HubSettings(cache, hub.endpoint(), Optional.of(FakeHub.TOKEN), false),
                new SimpleMeterRegistry());
        Path snapshot = directory(withTokenSet.resolve("gated-org/tiny"));
        assertArrayEquals(files.get(SHARD_1), Files.readAllBytes(snapshot.resolve(SHARD_1)));
        List<Request> withToken = hub.requests().stream().filter(r -> r.authorization() != null).toList();
        assertFalse(withToken.isEmpty());
        assertTrue(withToken.stream().allMatch(r -> r.server().equals("hub") && r.authorization().equals("Bearer " + FakeHub.TOKEN)),
                "the token goes to the Hub, never to the CDN");
    }

    @Test
    void aTokenWithoutAccessToAGatedModelIsToldToAskForIt() {
        hub.add(new FakeHub.Repo("gated-org/tiny", COMMIT, files, true));
        var otherAccount = new ModelResolver(new HubSettings(cache, hub.endpoint(), Optional.of("hf_other_account"), false), registry);

        HubException error = assertThrows(HubException.class, () -> otherAccount.resolve("gated-org/tiny"));

        assertTrue(error.getMessage().startsWith("gated-org/tiny is a gated model and the account of HF_TOKEN has no access yet:"
                + " accept its conditions at " + hub.endpoint() + "/gated-org/tiny"), error.getMessage());
        assertTrue(hub.requests("hub").stream().anyMatch(r -> "Bearer hf_other_account".equals(r.authorization())));
    }

    @Test
    void hfEndpointPointsDownloadsAtAMirror() throws IOException {
        HubSettings settings = HubSettings.fromEnv(Map.of("HF_ENDPOINT", hub.endpoint() + "/", "HF_HUB_CACHE", cache.toString()));

        Path snapshot = directory(new ModelResolver(settings, registry).resolve(ID));

        assertArrayEquals(files.get(SHARD_2), Files.readAllBytes(snapshot.resolve(SHARD_2)));
        assertTrue(hub.requests("hub").stream().anyMatch(r -> r.path().equals("/api/models/" + ID + "/revision/main")));
        assertTrue(hub.requests("hub").stream().anyMatch(r -> r.path().equals("/" + ID + "/resolve/" + COMMIT + "/config.json")));
    }

    @Test
    void aDiskThatFillsUpDuringTheDownloadStopsItWithTheReason() throws IOException {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.exists(full), "needs /dev/full (Linux)");
        byte[] shard = files.get(SHARD_1);
        Path blobs = Files.createDirectories(repoFolder().resolve("blobs"));
        // the blob's partial file is where the writes go: this one answers every write with ENOSPC
        Files.createSymbolicLink(blobs.resolve(Hashes.sha256(shard) + ".incomplete"), full);

        HubException error = assertThrows(HubException.class, () -> resolver().resolve(ID));

        assertTrue(error.getMessage().startsWith("The disk of " + repoFolder() + " is full while downloading " + SHARD_1 + " of " + ID
                + ": free some space or point HF_HOME (or HF_HUB_CACHE) at a larger disk"), error.getMessage());
        assertFalse(Files.exists(repoFolder().resolve("snapshots")), "nothing half-done in snapshots/");
    }

    @Test
    void aRenamedRepositoryIsFollowedToItsNewName() throws IOException {
        hub.rename("old-org/tiny", ID);

        Path snapshot = directory(resolver().resolve("old-org/tiny"));

        assertEquals(cache.resolve("models--old-org--tiny/snapshots").resolve(COMMIT), snapshot);
        assertArrayEquals(files.get(SHARD_1), Files.readAllBytes(snapshot.resolve(SHARD_1)));
        assertTrue(hub.requests("hub").stream().anyMatch(r -> r.path().startsWith("/old-org/tiny/resolve/")));
    }

    @Test
    void anUnknownIdIsReportedAsNotFound() {
        HubException error = assertThrows(HubException.class, () -> resolver().resolve("test-org/no-such-model"));

        assertTrue(error.getMessage().startsWith("test-org/no-such-model was not found on " + hub.endpoint() + ": check the id"),
                error.getMessage());
    }

    @Test
    void anUnknownRevisionIsReportedAsSuch() {
        HubException error = assertThrows(HubException.class, () -> resolver().resolve(ID + "@v9"));

        assertTrue(error.getMessage().startsWith("Revision 'v9' of " + ID + " was not found"), error.getMessage());
    }

    @Test
    void aCheckpointWithOnlyBinWeightsSaysSafetensorsAreNeeded() {
        Map<String, byte[]> binOnly = new LinkedHashMap<>();
        binOnly.put("config.json", files.get("config.json"));
        binOnly.put("tokenizer.model", files.get("tokenizer.model"));
        binOnly.put("pytorch_model.bin", files.get(SHARD_1));
        hub.add(new FakeHub.Repo("test-org/bin-only", COMMIT, binOnly, false));

        HubException error = assertThrows(HubException.class, () -> resolver().resolve("test-org/bin-only"));

        assertTrue(error.getMessage().startsWith("test-org/bin-only has its weights only as pytorch_model.bin: resident"
                + " loads safetensors weights"), error.getMessage());
        assertEquals(List.of("GET"), hub.requests().stream().map(Request::method).toList(), "nothing was downloaded");
    }

    @Test
    void aDownloadLargerThanTheFreeDiskIsRefusedBeforeItStarts() {
        hub.claimSize(files.get(SHARD_1), 1L << 50);

        HubException error = assertThrows(HubException.class, () -> resolver().resolve(ID));

        assertTrue(error.getMessage().startsWith(ID + " needs 1125899.9 GB more in " + repoFolder()), error.getMessage());
        assertTrue(error.getMessage().contains("free: free some space or point HF_HOME"), error.getMessage());
        assertEquals(List.of(), hub.requests("cdn"));
    }

    @Test
    void reusesACacheThatPythonMadeWithoutARequest() throws IOException {
        Path snapshot = PythonCache.write(cache, ID, COMMIT, files);

        assertEquals(snapshot, directory(resolver().resolve(ID)));
        assertEquals(snapshot, directory(resolver().resolve(ID + "@" + COMMIT)));
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void fillsInWhatAPartialPythonCacheLacks() throws IOException {
        Map<String, byte[]> configOnly = Map.of("config.json", files.get("config.json"));
        PythonCache.write(cache, ID, COMMIT, configOnly);

        Path snapshot = directory(resolver().resolve(ID));

        assertArrayEquals(files.get(SHARD_2), Files.readAllBytes(snapshot.resolve(SHARD_2)));
        assertTrue(hub.requests("hub").stream().noneMatch(r -> r.path().endsWith("/config.json")), "config.json was not fetched again");
    }

    @Test
    void pinsARevisionAndRecordsItUnderRefs() throws IOException {
        Path snapshot = directory(resolver().resolve(ID + "@" + COMMIT));

        assertEquals(repoFolder().resolve("snapshots").resolve(COMMIT), snapshot);
        assertFalse(Files.exists(repoFolder().resolve("refs/main")), "a commit needs no ref");
        assertNull(hub.requests().stream().filter(r -> r.path().contains("/main")).findAny().orElse(null));
    }
}
