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
                bad(CHAT, "{\"messages\":[{\"role\":\"tool\",\"content\":\"42\",\"tool_call_id\":\"x\"}]}", "messages[0].role"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content"),
                bad(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}",
                        "messages[0].content[0]"),
                // sampling fields
                chat("\"temperature\":-1", "temperature"),
                chat("\"temperature\":\"hot\"", "temperature"),
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
                chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]", "tools"),
                chat("\"response_format\":{\"type\":\"json_object\"}", "response_format"),
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
