package io.resident.api.page;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import io.resident.ops.GpuMemorySource;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URI;
import org.junit.jupiter.api.Test;

/** The page's files and its info endpoint over HTTP, on the demo model (CPU); the browser tests use both. */
@QuarkusTest
class PageTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URI base;

    @Inject
    ModelHolder holder;

    @Test
    void rootServesThePageWithAPolicyThatRunsOnlyItsOwnScripts() {
        Response page = given().get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.contentType().startsWith("text/html"), page.contentType());
        assertTrue(page.asString().contains("<script type=\"module\" src=\"chat.js\"></script>"));
        String policy = page.header("Content-Security-Policy");
        assertTrue(policy.contains("default-src 'none'") && policy.contains("script-src 'self'")
                && policy.contains("connect-src 'self'"), policy);
        assertFalse(policy.contains("unsafe"), "no inline script or style may run: " + policy);
        assertEquals("nosniff", page.header("X-Content-Type-Options"));
    }

    @Test
    void scriptsAndStylesAreServedAndCheckedAgainOnEveryLoad() {
        for (String file : new String[] {"/chat.js", "/markdown.js"}) {
            Response script = given().get(file);
            assertEquals(200, script.statusCode(), file);
            assertTrue(script.contentType().startsWith("text/javascript"), file + ": " + script.contentType());
            assertTrue(script.header("Cache-Control").contains("max-age=0"), file + ": " + script.header("Cache-Control"));
        }
        assertEquals(200, given().get("/chat.css").statusCode());
        assertEquals(200, given().get("/favicon.svg").statusCode());
    }

    @Test
    void infoDescribesTheServedModel() throws Exception {
        PageBrowser.awaitReady(base, null);
        ServedModel served = holder.served();
        Response response = given().get("/api/info");
        assertEquals(200, response.statusCode());
        assertTrue(response.contentType().startsWith("application/json"), response.contentType());
        JsonNode info = JSON.readTree(response.asString());
        assertEquals("READY", info.get("state").asText());
        JsonNode model = info.get("model");
        assertEquals(ServedModel.DEMO_ID, model.get("id").asText());
        assertTrue(model.get("demo").asBoolean(), "the demo model says it is one");
        assertEquals(served.family(), model.get("family").asText());
        assertEquals("cpu", model.get("device").asText());
        assertEquals("float32", model.get("dtype").asText());
        assertEquals("pure DJL on the CPU", model.get("acceleration").asText(), "the compute path the service runs");
        assertEquals(served.maxContext(), model.get("maxContext").asInt());
        assertEquals(0.8, info.get("sampling").get("temperature").asDouble(), "the demo samples by default");
        assertEquals(InfoResource.DEFAULT_MAX_TOKENS, info.get("sampling").get("maxTokens").asInt());
        assertEquals(served.engine().slots(), info.get("load").get("slots").asInt());
        assertEquals(20, info.get("memoryWindow").asInt());
        assertTrue(info.get("gpuMemory").isNull(), "no GPU memory on the CPU: " + info);
    }

    @Test
    void gpuMemoryWarnsAboveNinetyPercent() {
        long gib = 1L << 30;
        assertFalse(InfoResource.GpuMemory.of(new GpuMemorySource.Reading(90 * gib, 100 * gib)).warning());
        InfoResource.GpuMemory full = InfoResource.GpuMemory.of(new GpuMemorySource.Reading(134 * gib, 141 * gib));
        assertTrue(full.warning());
        assertEquals(134.0 / 141, full.ratio(), 1e-12);
    }
}
