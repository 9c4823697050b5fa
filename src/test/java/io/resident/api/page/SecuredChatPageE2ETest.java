package io.resident.api.page;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.api.openai.SecuredChatGlm;
import io.restassured.response.Response;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.StreamSupport;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The page in front of a real model (the ChatGLM3 fixture) behind RESIDENT_API_KEY: it asks for the key once. */
@QuarkusTest
@TestProfile(SecuredChatGlm.class)
class SecuredChatPageE2ETest {

    private static final PageBrowser.Suite SUITE = new PageBrowser.Suite("secured");

    @TestHTTPResource("/")
    URI base;

    @ConfigProperty(name = "resident.api-key")
    String key;

    private JsonNode scenario(String name) throws IOException, InterruptedException {
        return SUITE.scenario(base, key, name);
    }

    @Test
    void infoWantsTheKeyAndThePageDoesNot() {
        Response refused = given().get("/api/info");
        assertEquals(401, refused.statusCode());
        assertEquals("Bearer", refused.header("WWW-Authenticate"));
        assertEquals(200, given().header("Authorization", "Bearer " + key).get("/api/info").statusCode());
        assertEquals(200, given().get("/").statusCode(), "the page itself is open: it asks for the key");
    }

    @Test
    void pageAsksForTheKeyAndUsesItForTheSocketAndTheInfo() throws Exception {
        JsonNode ask = scenario("askKey");
        assertTrue(ask.get("asked").asBoolean(), "the key dialog opened");
        assertFalse(ask.get("dialogOpen").asBoolean(), "and closed once the key was accepted");
        assertEquals("chatglm3-6b-tiny", ask.get("model").asText());
        assertFalse(ask.get("demoBanner").asBoolean(), "no demo banner for a real model");
        assertEquals(key, ask.get("stored").asText(), "kept in sessionStorage");
        List<String> sockets = texts(ask.get("sockets"));
        String withKey = "api_key=" + URLEncoder.encode(key, StandardCharsets.UTF_8);
        assertTrue(sockets.stream().anyMatch(url -> url.contains(withKey)), sockets.toString());
        assertTrue(sockets.stream().anyMatch(url -> url.contains("api_key=not-the-key")), "the wrong key was tried: " + sockets);
        List<String> infoAuthorizations = texts(ask.get("infoAuthorizations"));
        assertTrue(infoAuthorizations.containsAll(List.of("Bearer not-the-key", "Bearer " + key)), infoAuthorizations.toString());
    }

    @Test
    void keyIsAskedOnceAndKeptAcrossARefresh() throws Exception {
        scenario("askKey");
        JsonNode kept = scenario("keyKept");
        assertFalse(kept.get("dialogOpen").asBoolean());
        assertEquals("length", kept.get("state").asText());
        assertEquals(3, kept.get("done").get("usage").get("completionTokens").asInt());
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(node -> node.isNull() ? "" : node.asText()).toList();
    }
}
