package io.resident.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RESIDENT_MODEL values that never reach the Hub: unset, demo, directories, malformed ids. */
class LocalAndDemoTest {

    @TempDir
    Path temp;

    // an endpoint nobody listens on: these cases must not need one
    private ModelResolver resolver() {
        return new ModelResolver(new HubSettings(temp.resolve("hub"), URI.create("http://127.0.0.1:9"), Optional.empty(), false),
                new SimpleMeterRegistry());
    }

    @Test
    void unsetBlankAndDemoServeTheDemoModel() {
        assertEquals(new Resolved.Demo("RESIDENT_MODEL is not set"), resolver().resolve(null));
        assertEquals(new Resolved.Demo("RESIDENT_MODEL is not set"), resolver().resolve("  "));
        assertEquals(new Resolved.Demo("RESIDENT_MODEL=demo"), resolver().resolve("Demo"));
    }

    @Test
    void aModelDirectoryIsUsedAsItIs() {
        Path fixture = HubFixture.chatglm3Tiny();

        Resolved resolved = resolver().resolve(fixture.toString());

        assertEquals(new Resolved.Local(fixture, "directory"), resolved);
    }

    @Test
    void aDirectoryWithoutConfigIsRefused() throws IOException {
        Path empty = Files.createDirectories(temp.resolve("empty"));

        HubException error = assertThrows(HubException.class, () -> resolver().resolve(empty.toString()));

        assertEquals("The directory " + empty + " has no config.json: it is not a Hugging Face transformers checkpoint",
                error.getMessage());
    }

    @Test
    void aDirectoryMissingAShardItsIndexNamesIsRefused() throws IOException {
        Path fixture = HubFixture.chatglm3Tiny();
        Path copy = Files.createDirectories(temp.resolve("copy"));
        for (String file : new String[] {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors"}) {
            Files.copy(fixture.resolve(file), copy.resolve(file));
        }

        HubException error = assertThrows(HubException.class, () -> resolver().resolve(copy.toString()));

        assertEquals("The directory " + copy + "'s model.safetensors.index.json names shards it does not have:"
                + " model-00002-of-00002.safetensors", error.getMessage());
    }

    @Test
    void aMissingDirectoryIsNotMistakenForAnId() {
        HubException error = assertThrows(HubException.class, () -> resolver().resolve("/models/qwen"));

        assertEquals("RESIDENT_MODEL=/models/qwen is not a directory on this machine", error.getMessage());
    }

    @Test
    void aMalformedIdIsRefused() {
        HubException error = assertThrows(HubException.class, () -> resolver().resolve("Qwen/Qwen2.5 7B"));

        assertEquals("'Qwen/Qwen2.5 7B' is neither a model directory nor a Hugging Face id of the form org/name[@revision]",
                error.getMessage());
    }

    @Test
    void idsCarryAnOptionalRevision() {
        assertEquals(new HubId("THUDM/chatglm3-6b", "main"), HubId.parse("THUDM/chatglm3-6b"));
        assertEquals(new HubId("Qwen/Qwen2.5-7B-Instruct", "refs/pr/12"), HubId.parse("Qwen/Qwen2.5-7B-Instruct@refs/pr/12"));
        assertThrows(HubException.class, () -> HubId.parse("org/name@../../etc"));
    }
}
