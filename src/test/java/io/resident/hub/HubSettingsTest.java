package io.resident.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The environment variables are read the way Python's huggingface_hub reads them. */
class HubSettingsTest {

    @TempDir
    Path temp;

    @Test
    void defaultsAreTheUsersCacheAndHuggingfaceCo() {
        HubSettings settings = HubSettings.fromEnv(Map.of());

        assertEquals(Path.of(System.getProperty("user.home"), ".cache/huggingface/hub"), settings.hubCache());
        assertEquals(URI.create("https://huggingface.co"), settings.endpoint());
        assertFalse(settings.offline());
    }

    @Test
    void hfHomeHoldsTheHubCacheAndTheLoginToken() throws IOException {
        Files.writeString(temp.resolve("token"), "hf_from_login\n");

        HubSettings settings = HubSettings.fromEnv(Map.of("HF_HOME", temp.toString()));

        assertEquals(temp.resolve("hub"), settings.hubCache());
        assertEquals(Optional.of("hf_from_login"), settings.token());
    }

    @Test
    void explicitVariablesWin() throws IOException {
        Files.writeString(temp.resolve("token"), "hf_from_login");

        HubSettings settings = HubSettings.fromEnv(Map.of("HF_HOME", temp.toString(), "HF_HUB_CACHE", "/data/hub",
                "HF_TOKEN", "hf_from_env", "HF_ENDPOINT", "https://hf-mirror.com/", "HF_HUB_OFFLINE", "1"));

        assertEquals(Path.of("/data/hub"), settings.hubCache());
        assertEquals(Optional.of("hf_from_env"), settings.token());
        assertEquals(URI.create("https://hf-mirror.com"), settings.endpoint());
        assertTrue(settings.offline());
        assertFalse(settings.toString().contains("hf_from_env"), "the token stays out of logs");
    }

    @Test
    void offlineTakesHuggingfaceHubsTrueValues() {
        for (String yes : new String[] {"1", "true", "TRUE", "yes", "on"}) {
            assertTrue(HubSettings.fromEnv(Map.of("HF_HUB_OFFLINE", yes)).offline(), yes);
        }
        for (String no : new String[] {"0", "false", "no", ""}) {
            assertFalse(HubSettings.fromEnv(Map.of("HF_HUB_OFFLINE", no)).offline(), no);
        }
    }
}
