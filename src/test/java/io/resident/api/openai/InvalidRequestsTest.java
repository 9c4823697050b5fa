package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every invalid request gets its status and an OpenAI-shaped error naming the field at fault; the service carries on. */
@QuarkusTest
class InvalidRequestsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "/v1/chat/completions";
    private static final String TEXT = "/v1/completions";
    private static final String USER = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    private static final String TOOL = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}";
    /** About 5,000 tokens: more than the demo model's 4,096 positions. */
    private static final String LONG = "hello ".repeat(5_000);

    @Inject
    ModelHolder holder;

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                // the body itself
                bad(CHAT, "{", null),
                bad(CHAT, "[]", null),
                bad(CHAT, "", null),
                bad(CHAT, "null", null),
                bad(CHAT, "{}", "messages"),
                bad(CHAT, "{\"messages\":[]}", "messages"),
                bad(CHAT, "{\"messages\":\"hi\"}", "messages"),
                bad(CHAT, "{\"messages\":[null]}", "messages[0]"),
                bad(CHAT, "{\"messages\":[{\"content\":\"hi\"}]}", "messages[0].role"),
                bad(CHAT, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role"),
                bad(CHAT, "{\"messages\":[{\"role\":\"tool\",\"content\":\"42\",\"tool_call_id\":\"x\"}]}", "messages[0].tool_call_id"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}",
                        "messages[0].content[0]"),
                // sampling fields
                chat("\"temperature\":-1", "temperature"),
                chat("\"temperature\":\"hot\"", "temperature"),
                chat("\"temperature\":2.5", "temperature"),
                chat("\"top_p\":0", "top_p"),
                chat("\"top_p\":1.5", "top_p"),
                chat("\"top_k\":-2", "top_k"),
                chat("\"max_tokens\":0", "max_tokens"),
                chat("\"max_tokens\":1.5", "max_tokens"),
                chat("\"max_completion_tokens\":-1", "max_completion_tokens"),
                chat("\"n\":2", "n"),
                chat("\"n\":0", "n"),
                chat("\"presence_penalty\":2.5", "presence_penalty"),
                chat("\"frequency_penalty\":-3", "frequency_penalty"),
                chat("\"repetition_penalty\":0", "repetition_penalty"),
                chat("\"logprobs\":true,\"top_logprobs\":21", "top_logprobs"),
                chat("\"top_logprobs\":2", "top_logprobs"),
                chat("\"logprobs\":\"yes\"", "logprobs"),
                chat("\"stop\":\"\"", "stop"),
                chat("\"stop\":[\"\"]", "stop"),
                chat("\"stop\":5", "stop"),
                chat("\"stop\":[\"a\",1]", "stop"),
                chat("\"seed\":\"abc\"", "seed"),
                chat("\"seed\":1.5", "seed"),
                chat("\"stream\":\"maybe\"", "stream"),
                chat("\"stream_options\":{\"include_usage\":true}", "stream_options"),
                // tools, tool choices and tool turns
                chat("\"tools\":{\"name\":\"f\"}", "tools"),
                chat("\"tools\":[\"f\"]", "tools[0]"),
                chat("\"tools\":[{\"type\":\"retrieval\"}]", "tools[0].type"),
                chat("\"tools\":[{\"type\":\"function\"}]", "tools[0].function"),
                chat("\"tools\":[{\"type\":\"function\",\"function\":{\"description\":\"no name\"}}]", "tools[0].function.name"),
                chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get weather\"}}]", "tools[0].function.name"),
                chat("\"tools\":[" + TOOL + "," + TOOL + "]", "tools[1].function.name"),
                chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"x\"}}]", "tools[0].function.parameters"),
                chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":1}}]", "tools[0].function.description"),
                chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"strict\":\"yes\"}}]", "tools[0].function.strict"),
                chat("\"tools\":[" + TOOL + "],\"tool_choice\":\"sometimes\"", "tool_choice"),
                chat("\"tools\":[" + TOOL + "],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"other\"}}", "tool_choice"),
                chat("\"tools\":[" + TOOL + "],\"tool_choice\":{\"type\":\"function\"}", "tool_choice"),
                chat("\"tool_choice\":\"required\"", "tool_choice"),
                chat("\"tools\":[" + TOOL + "],\"parallel_tool_calls\":\"no\"", "parallel_tool_calls"),
                chat("\"tools\":[" + TOOL + ",{\"type\":\"function\",\"function\":{\"name\":\"tag\",\"parameters\":{\"type\":\"object\","
                        + "\"properties\":{\"tags\":{\"type\":\"array\",\"uniqueItems\":true}}}}}],\"tool_choice\":\"required\"",
                        "tools[1].function.parameters"),
                chat("\"functions\":[{\"name\":\"f\"}],\"tools\":[" + TOOL + "]", "functions"),
                chat("\"functions\":[{\"name\":\"\"}]", "functions[0].name"),
                chat("\"functions\":[{\"name\":\"f\"}],\"function_call\":{\"name\":\"g\"}", "function_call"),
                chat("\"functions\":[{\"name\":\"f\"}],\"function_call\":\"required\"", "function_call"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null}]}",
                        "messages[1].content"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                        + "\"tool_calls\":{}}]}", "messages[1].tool_calls"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                        + "\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]}", "messages[1].tool_calls[0].id"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                        + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"arguments\":\"{}\"}}]}]}", "messages[1].tool_calls[0].function.name"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                        + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{city: Paris\"}}]}]}",
                        "messages[1].tool_calls[0].function.arguments"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                        + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                        + "{\"role\":\"tool\",\"content\":\"1\"}]}", "messages[2].tool_call_id"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                        + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                        + "{\"role\":\"tool\",\"content\":\"1\",\"tool_call_id\":\"c2\"}]}", "messages[2].tool_call_id"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                        + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                        + "{\"role\":\"tool\",\"tool_call_id\":\"c1\"}]}", "messages[2].content"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"function\",\"content\":\"1\",\"name\":\"f\"}]}",
                        "messages[1].name"),
                chat("\"response_format\":\"json\"", "response_format"),
                chat("\"response_format\":{\"type\":\"yaml\"}", "response_format.type"),
                chat("\"response_format\":{\"type\":\"json_schema\"}", "response_format.json_schema"),
                chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}", "response_format.json_schema.name"),
                chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"strict\":\"yes\",\"schema\":{}}}",
                        "response_format.json_schema.strict"),
                chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":[]}}",
                        "response_format.json_schema.schema"),
                chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"not\":{}}}}",
                        "response_format.json_schema.schema"),
                bad(TEXT, "{\"prompt\":\"hi\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"string\",\"pattern\":\"(?=a)\"}}}}",
                        "response_format.json_schema.schema"),
                chat("\"logit_bias\":{\"50256\":-100}", "logit_bias"),
                // what does not fit the context
                arguments(CHAT, "{" + USER + ",\"max_tokens\":5000}", 400, "messages", "context_length_exceeded"),
                arguments(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"" + LONG + "\"}]}", 400, "messages",
                        "context_length_exceeded"),
                arguments(TEXT, "{\"prompt\":\"" + LONG + "\"}", 400, "prompt", "context_length_exceeded"),
                // an unknown model
                arguments(CHAT, "{" + USER + ",\"model\":\"gpt-4o\"}", 404, "model", "model_not_found"),
                arguments(TEXT, "{\"prompt\":\"hi\",\"model\":\"gpt-4o\"}", 404, "model", "model_not_found"),
                arguments("/tokenize", "{\"prompt\":\"hi\",\"model\":\"gpt-4o\"}", 404, "model", "model_not_found"),
                // text completions
                bad(TEXT, "{}", "prompt"),
                bad(TEXT, "{\"prompt\":5}", "prompt"),
                bad(TEXT, "{\"prompt\":\"\"}", "prompt"),
                bad(TEXT, "{\"prompt\":[\"\"]}", "prompt"),
                bad(TEXT, "{\"prompt\":[]}", "prompt"),
                bad(TEXT, "{\"prompt\":[\"a\",\"b\"]}", "prompt"),
                bad(TEXT, "{\"prompt\":[1,-1]}", "prompt[1]"),
                bad(TEXT, "{\"prompt\":[999999999]}", "prompt[0]"),
                bad(TEXT, "{\"prompt\":\"hi\",\"echo\":true}", "echo"),
                bad(TEXT, "{\"prompt\":\"hi\",\"suffix\":\"!\"}", "suffix"),
                bad(TEXT, "{\"prompt\":\"hi\",\"best_of\":2}", "best_of"),
                bad(TEXT, "{\"prompt\":\"hi\",\"logprobs\":21}", "logprobs"),
                bad(TEXT, "{\"prompt\":\"hi\",\"max_tokens\":0}", "max_tokens"),
                // tokenize and detokenize
                bad("/tokenize", "{}", "prompt"),
                bad("/tokenize", "{\"prompt\":\"hi\"," + USER + "}", "messages"),
                bad("/tokenize", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role"),
                bad("/detokenize", "{}", "tokens"),
                bad("/detokenize", "{\"tokens\":\"abc\"}", "tokens"),
                bad("/detokenize", "{\"tokens\":[-1]}", "tokens[0]"),
                bad("/detokenize", "{\"tokens\":[1,999999999]}", "tokens[1]"));
    }

    @ParameterizedTest(name = "{0} {1} -> {2} {3}")
    @MethodSource("badRequests")
    void answeredWithStatusAndOpenAiError(String path, String body, int status, String param, String code) throws Exception {
        Response response = given().contentType("application/json").body(body).post(path).then().extract().response();
        assertEquals(status, response.statusCode(), response.asString());
        assertEquals("application/json", response.contentType());
        JsonNode error = JSON.readTree(response.asString()).get("error");
        assertEquals(4, error.size(), "message, type, param, code: " + error);
        assertTrue(error.get("message").isTextual() && !error.get("message").asText().isBlank(), error.toString());
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals(param, error.get("param").textValue(), error.toString());
        assertEquals(code, error.get("code").textValue(), error.toString());
    }

    @Test
    void unknownEndpointsAndMethodsAreOpenAiErrorsToo() throws Exception {
        for (Response response : List.of(given().get("/v1/chat/completions"), given().post("/v1/embeddings"),
                given().get("/v1/models/gpt-4o"))) {
            JsonNode error = JSON.readTree(response.asString()).get("error");
            assertEquals("invalid_request_error", error.get("type").asText(), response.asString());
            assertFalse(error.get("message").asText().isBlank());
        }
        assertEquals(405, given().get("/v1/chat/completions").statusCode());
        assertEquals(404, given().post("/v1/embeddings").statusCode());
        assertEquals("model_not_found", given().get("/v1/models/gpt-4o").then().statusCode(404).extract().path("error.code"));
    }

    @Test
    void aBadRoleIsToldEveryRoleTaken() {
        String message = given().contentType("application/json").body("{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}").post(CHAT)
                .then().statusCode(400).extract().path("error.message");
        assertTrue(message.contains("system, developer, user, assistant or tool"), message);
    }

    @Test
    void anUnexpectedErrorIs500WithAnOpenAiBody() throws Exception {
        Response response = given().contentType("application/json").body("{}").post(FailingResource.PATH).then().extract().response();
        assertEquals(500, response.statusCode(), response.asString());
        assertTrue(response.contentType().startsWith("application/json"), response.contentType());
        JsonNode error = JSON.readTree(response.asString()).get("error");
        assertEquals("server_error", error.get("type").asText(), error.toString());
        assertFalse(error.get("message").asText().contains(FailingResource.SECRET), "no internals leak: " + error);
        given().contentType("application/json").body("{" + USER + ",\"max_tokens\":1}").post(CHAT).then().statusCode(200);
    }

    @Test
    void errorsAreCountedByCauseAndTheServiceCarriesOn() {
        given().contentType("application/json").body("{\"messages\":[]}").post(CHAT).then().statusCode(400);
        given().contentType("application/json").body("{" + USER + ",\"max_tokens\":5000}").post(CHAT).then().statusCode(400);
        String metrics = given().get("/q/metrics").asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("resident_request_errors_total{cause=\"invalid_request\"")), metrics);
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("resident_request_errors_total{cause=\"context_overflow\"")));
        given().contentType("application/json").body("{" + USER + ",\"max_tokens\":2}").post(CHAT).then().statusCode(200);
    }

    private static Arguments bad(String path, String body, String param) {
        return arguments(path, body, 400, param, null);
    }

    private static Arguments chat(String field, String param) {
        return bad(CHAT, "{" + USER + "," + field + "}", param);
    }
}
