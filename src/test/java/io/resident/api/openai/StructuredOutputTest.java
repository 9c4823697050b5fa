package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletion;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import io.resident.grammar.Schemas;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * response_format against the running app and its random-weight demo model: whatever the temperature and seed,
 * streamed or not, the reply is JSON its schema accepts (checked by a JSON-schema validator) and ends where the JSON
 * closes; the real clients' structured outputs parse it into their types.
 */
@QuarkusTest
class StructuredOutputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USER = "Describe a person as JSON.";
    /** More than the bounded schemas below can take, so a reply never ends by length. */
    private static final int MAX_TOKENS = 1500;
    /** The POJOs' strings are unbounded: they close when this budget runs short. */
    private static final int POJO_MAX_TOKENS = 200;

    @Inject
    ModelHolder holder;

    @TestHTTPResource("/v1")
    URL v1;

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
    }

    @ParameterizedTest(name = "temperature {0}, seed {1}, stream {2}")
    @CsvSource({"0, 1, false", "0, 1, true", "0.7, 2, false", "1.0, 3, true", "1.5, 4, false", "1.0, 5, true"})
    void everySchemaFeatureHoldsOnChatCompletions(double temperature, long seed, boolean stream) {
        assertChatHoldsTo(Schemas.everyFeature(), body(temperature, seed, stream));
    }

    @ParameterizedTest(name = "temperature {0}, seed {1}, stream {2}")
    @CsvSource({"0, 1, false", "1.0, 2, true"})
    void everySchemaFeatureHoldsOnTextCompletions(double temperature, long seed, boolean stream) {
        Map<String, Object> body = body(temperature, seed, stream);
        body.put("prompt", "A person as JSON:");
        body.put("response_format", Map.of("type", "json_schema",
                "json_schema", Map.of("name", "person", "schema", Schemas.everyFeature())));
        Reply reply = post("/v1/completions", body, stream);
        assertEquals("stop", reply.finishReason(), reply.text());
        Schemas.assertValid(Schemas.everyFeature(), reply.text());
    }

    @ParameterizedTest(name = "temperature {0}, seed {1}, stream {2}")
    @CsvSource({"0.7, 1, false", "1.0, 2, true", "1.5, 3, false", "1.0, 4, true", "0, 5, true"})
    void aSmallMaxTokensStillEndsWithJsonTheSchemaAccepts(double temperature, long seed, boolean stream) throws Exception {
        for (int maxTokens : new int[] {2, 5, 12}) {
            Map<String, Object> body = body(temperature, seed, stream);
            body.put("max_tokens", maxTokens);
            body.put("messages", List.of(Map.of("role", "user", "content", USER)));
            body.put("response_format", Map.of("type", "json_object"));
            Reply reply = post("/v1/chat/completions", body, stream);
            assertEquals("stop", reply.finishReason(), reply.text());
            assertTrue(JSON.readTree(reply.text()).isObject(), reply.text());
        }
        // its shortest answer is 53 bytes; the model's own would run far longer
        Map<String, Object> body = body(temperature, seed, stream);
        body.put("max_tokens", 60);
        assertChatHoldsTo(Schemas.nestedRequired(), body);
    }

    /** A POJO's schema as openai-java derives it. */
    public static class Forecast {
        public String city;
        public int temperature;
        public Sky sky;
        public boolean windy;
    }

    public enum Sky { CLEAR, CLOUDY, RAIN }

    @Test
    void openaiJavaStructuredOutputsParseIntoTheClass() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(v1.toString()).apiKey("unused").maxRetries(0).build();
        for (long seed = 1; seed <= 3; seed++) {
            StructuredChatCompletion<Forecast> completion = client.chat().completions().create(
                    ChatCompletionCreateParams.builder().model("default").addUserMessage("The weather in Paris?")
                            .temperature(1.0).seed(seed).maxCompletionTokens(POJO_MAX_TOKENS).responseFormat(Forecast.class).build());
            Forecast forecast = completion.choices().get(0).message().content().orElseThrow();
            assertTrue(forecast.city != null && forecast.sky != null, "parsed: " + forecast.city + ", " + forecast.sky);
        }
    }

    /** A record returned by an AiServices method: langchain4j sends its JSON schema as response_format. */
    record Person(String name, int age, boolean employed, Sky favouriteSky) {}

    interface People {
        Person describe(String request);
    }

    @Test
    void langchain4jAiServicesReturnsAPojo() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName("default")
                .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true)
                .temperature(1.0).seed(1).maxTokens(POJO_MAX_TOKENS).timeout(Duration.ofSeconds(120)).build();
        Person person = AiServices.create(People.class, model).describe("Invent a person.");
        assertTrue(person.name() != null && person.favouriteSky() != null, String.valueOf(person));
    }

    @Test
    void unsupportedKeywordsAreRefusedNamingTheKeyword() throws Exception {
        for (String keyword : List.of("uniqueItems", "oneOf", "patternProperties", "multipleOf")) {
            Map<String, Object> body = body(0, 1, false);
            body.put("messages", List.of(Map.of("role", "user", "content", USER)));
            body.put("response_format", Map.of("type", "json_schema", "json_schema", Map.of("name", "x",
                    "schema", Map.of("type", "object", "properties", Map.of("a", Map.of("type", "array", keyword, List.of()))))));
            JsonNode error = JSON.readTree(given().contentType("application/json").body(body).post("/v1/chat/completions").then().statusCode(400)
                    .extract().asString()).get("error");
            assertEquals("response_format.json_schema.schema", error.get("param").asText());
            assertEquals("invalid_request_error", error.get("type").asText());
            assertTrue(error.get("message").asText().contains("'" + keyword + "'") && error.get("message").asText()
                    .contains("/properties/a/" + keyword), error.toString());
        }
    }

    /** A chat completion held to the schema ends with stop, and its JSON is one the schema accepts. */
    private static void assertChatHoldsTo(JsonNode schema, Map<String, Object> body) {
        body.put("messages", List.of(Map.of("role", "user", "content", USER)));
        body.put("response_format", Map.of("type", "json_schema",
                "json_schema", Map.of("name", "answer", "strict", true, "schema", schema)));
        Reply reply = post("/v1/chat/completions", body, (Boolean) body.get("stream"));
        assertEquals("stop", reply.finishReason(), reply.text());
        Schemas.assertValid(schema, reply.text());
    }

    private static Map<String, Object> body(double temperature, long seed, boolean stream) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", "default");
        body.put("temperature", temperature);
        body.put("seed", seed);
        body.put("max_tokens", MAX_TOKENS);
        body.put("stream", stream);
        return body;
    }

    record Reply(String text, String finishReason) {}

    private static Reply post(String path, Map<String, Object> body, boolean stream) {
        Response response = given().contentType("application/json").body(body).post(path).then().statusCode(200).extract().response();
        try {
            if (!stream) {
                JsonNode choice = JSON.readTree(response.asString()).get("choices").get(0);
                JsonNode text = choice.has("message") ? choice.get("message").get("content") : choice.get("text");
                return new Reply(text.asText(), choice.get("finish_reason").asText());
            }
            List<JsonNode> chunks = Sse.chunks(response.asString());
            String finish = null;
            for (JsonNode chunk : chunks) {
                for (JsonNode choice : chunk.get("choices")) {
                    if (choice.hasNonNull("finish_reason")) {
                        finish = choice.get("finish_reason").asText();
                    }
                }
            }
            return new Reply(Sse.text(chunks), finish);
        } catch (Exception e) {
            throw new AssertionError(response.asString(), e);
        }
    }
}
