package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.engine.FinishReason;
import io.resident.engine.GenerationEvent;
import io.resident.engine.GenerationRequest;
import io.resident.engine.ModelHolder;
import io.resident.engine.SamplingParams;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import io.resident.grammar.Schemas;
import io.resident.model.Fixtures;
import io.resident.tokenizer.Message;
import io.restassured.http.Header;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ChatGLM3 fixture behind RESIDENT_API_KEY: 401, 413 and 503 answers, and replies equal to the reference's. */
@QuarkusTest
@TestProfile(SecuredChatGlm.class)
class SecuredChatGlmTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TOKENS = 8;
    private static final Header AUTH = new Header("Authorization", SecuredChatGlm.BEARER);
    private static JsonNode golden;

    @Inject
    ModelHolder holder;

    @TestHTTPResource("/v1")
    URL v1;

    @BeforeAll
    static void readGolden() throws Exception {
        golden = JSON.readTree(Fixtures.own("chatglm3-6b-tiny").resolve("golden.json").toFile());
    }

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
    }

    @Test
    void everyEndpointWantsTheKeyAndTheProbesDoNot() throws Exception {
        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}";
        List<Call> calls = List.of(new Call("GET", "/v1/models", null), new Call("GET", "/v1/models/chatglm3-6b-tiny", null),
                new Call("POST", "/v1/chat/completions", chat), new Call("POST", "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}"),
                new Call("POST", "/tokenize", "{\"prompt\":\"hi\"}"), new Call("POST", "/detokenize", "{\"tokens\":[328]}"));
        for (Call call : calls) {
            for (RequestSpecification refused : List.of(given(), given().header("Authorization", "Bearer wrong"),
                    given().header("Authorization", SecuredChatGlm.KEY))) {
                Response response = call.send(refused);
                assertEquals(401, response.statusCode(), call + " " + response.asString());
                assertEquals("Bearer", response.header("WWW-Authenticate"));
                JsonNode error = JSON.readTree(response.asString()).get("error");
                assertEquals("authentication_error", error.get("type").asText());
                assertEquals("invalid_api_key", error.get("code").asText());
                assertTrue(error.get("message").asText().contains("API key"), error.toString());
            }
            assertEquals(200, call.send(api()).statusCode(), call.toString());
        }
        given().get("/q/health/ready").then().statusCode(200);
        assertTrue(given().get("/q/metrics").asString().contains("resident_request_errors_total{cause=\"unauthorized\""));
    }

    @Test
    void modelCardIsTheFixtureAndNoDemo() throws Exception {
        JsonNode card = JSON.readTree(api().get("/v1/models").then().statusCode(200).extract().asString())
                .get("data").get(0);
        assertEquals("chatglm3-6b-tiny", card.get("id").asText());
        assertEquals("resident", card.get("owned_by").asText());
        assertFalse(card.get("demo").asBoolean());
        assertEquals("chatglm", card.get("family").asText());
        assertFalse(card.get("description").asText().contains("DEMO"));
        assertEquals(holder.served().maxContext(), card.get("max_model_len").asInt());
    }

    @Test
    void langchain4jGetsTheReferenceRepliesWithTheKey() throws Exception {
        JsonNode system = golden.get("conversations").get(1);
        ChatResponse blocking = OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey(SecuredChatGlm.KEY)
                .modelName("chatglm3-6b-tiny").temperature(0.0).maxTokens(MAX_TOKENS).build().chat(messages(system));
        assertEquals(referenceText(system), blocking.aiMessage().text());
        assertEquals(system.get("prompt_ids").size(), blocking.tokenUsage().inputTokenCount());
        assertEquals(MAX_TOKENS, blocking.tokenUsage().outputTokenCount());

        JsonNode multiTurn = golden.get("conversations").get(2);
        ChatResponse streamed = Streamed.chat(OpenAiStreamingChatModel.builder().baseUrl(v1.toString())
                .apiKey(SecuredChatGlm.KEY).modelName("default").temperature(0.0).maxTokens(MAX_TOKENS).build(),
                messages(multiTurn)).response();
        assertEquals(referenceText(multiTurn), streamed.aiMessage().text());
        assertEquals(multiTurn.get("prompt_ids").size(), streamed.tokenUsage().inputTokenCount());
    }

    @Test
    void tokenizeBuildsChatGlmPrompts() throws Exception {
        JsonNode first = golden.get("conversations").get(0);
        assertEquals(first.get("prompt_ids"), tokens(Map.of("messages", first.get("messages"))));
        JsonNode hello = golden.get("tokenizer_vectors").get(1);
        assertEquals("Hello world", hello.get("text").asText());
        List<Integer> prefixed = new ArrayList<>(List.of(1001, 1003)); // [gMASK] sop, as THUDM's tokenizer(text) adds them
        hello.get("ids").forEach(id -> prefixed.add(id.asInt()));
        assertEquals(JSON.valueToTree(prefixed), tokens(Map.of("prompt", "Hello world")));
        assertEquals(hello.get("ids"), tokens(Map.of("prompt", "Hello world", "add_special_tokens", false)));
    }

    @Test
    void stopStringEndsTheReplyBeforeIt() throws Exception {
        JsonNode first = golden.get("conversations").get(0);
        String full = referenceText(first);
        String stop = full.substring(4, 5);
        Map<String, Object> body = Map.of("messages", first.get("messages"), "temperature", 0, "max_tokens", MAX_TOKENS,
                "stop", List.of("never seen", stop));
        JsonNode choice = JSON.readTree(chat(body).asString()).get("choices").get(0);
        assertEquals(full.substring(0, full.indexOf(stop)), choice.get("message").get("content").asText());
        assertEquals("stop", choice.get("finish_reason").asText());
        Map<String, Object> streaming = new HashMap<>(body);
        streaming.put("stream", true);
        streaming.put("stop", stop); // a string is one stop string
        assertEquals(full.substring(0, full.indexOf(stop)), Sse.text(Sse.chunks(chat(streaming).asString())));
    }

    @Test
    void aForcedCallIsChatGlm3sMetadataLineAndPythonCall() throws Exception {
        String weather = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":10},"
                + "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7},\"hourly\":{\"type\":\"boolean\"},"
                + "\"unit\":{\"enum\":[\"C\",\"F\",null]}},\"required\":[\"city\",\"days\",\"unit\"],\"additionalProperties\":false}";
        List<Object> tools = List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
                "description", "Weather for a city", "parameters", JSON.readTree(weather))),
                Map.of("type", "function", "function", Map.of("name", "local_time", "parameters", JSON.readTree(
                        "{\"type\":\"object\",\"properties\":{\"zone\":{\"const\":\"UTC\"}},\"required\":[\"zone\"]}"))));
        List<Object> choices = List.of("required", Map.of("type", "function", "function", Map.of("name", "get_weather")));
        for (long seed = 1; seed <= 4; seed++) {
            for (boolean stream : new boolean[] {false, true}) {
                Map<String, Object> body = new HashMap<>(Map.of("messages", List.of(Map.of("role", "user", "content", "Weather?")),
                        "tools", tools, "tool_choice", choices.get((int) seed % 2), "max_tokens", 120, "temperature", 1.0,
                        "seed", seed, "stream", stream));
                String answer = chat(body).asString();
                String name;
                String arguments;
                String finish;
                if (stream) {
                    List<JsonNode> chunks = Sse.chunks(answer);
                    List<JsonNode> fragments = new ArrayList<>();
                    chunks.forEach(c -> c.get("choices").get(0).path("delta").path("tool_calls").forEach(fragments::add));
                    name = fragments.getFirst().get("function").get("name").asText();
                    StringBuilder joined = new StringBuilder();
                    fragments.forEach(f -> joined.append(f.get("function").path("arguments").asText()));
                    arguments = joined.toString();
                    finish = chunks.getLast().get("choices").get(0).get("finish_reason").asText();
                    assertEquals("", Sse.text(chunks), "the call's markup never shows as content");
                } else {
                    JsonNode choice = JSON.readTree(answer).get("choices").get(0);
                    assertTrue(choice.get("message").get("content").isNull(), answer);
                    JsonNode call = choice.get("message").get("tool_calls").get(0).get("function");
                    name = call.get("name").asText();
                    arguments = call.get("arguments").asText();
                    finish = choice.get("finish_reason").asText();
                }
                assertEquals("tool_calls", finish, answer);
                if (name.equals("local_time")) {
                    assertEquals("{\"zone\":\"UTC\"}", arguments);
                } else {
                    assertEquals("get_weather", name, answer);
                    Schemas.assertValid(JSON.readTree(weather), arguments);
                }
            }
        }
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        String huge = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(SecuredChatGlm.BODY_LIMIT) + "\"}]}";
        Response response = api().body(huge).post("/v1/chat/completions");
        assertEquals(413, response.statusCode());
        JsonNode error = JSON.readTree(response.asString()).get("error");
        assertEquals("request_too_large", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("RESIDENT_MAX_REQUEST_BODY"), error.toString());
    }

    @Test
    void fullQueueIs503WithRetryAfter() throws Exception {
        // the only slot is held by a reply that no stop id can end and that runs until cancelled below
        ServedModel served = holder.served();
        int[] prompt = served.tokenizer().chatPrompt(List.of(new Message("user", "hi")));
        TokenStream holding = served.engine().submit(new GenerationRequest(prompt,
                SamplingParams.builder().temperature(0).ignoreEos(true).build()));
        try {
            assertInstanceOf(GenerationEvent.Token.class, holding.next(), "the holding reply is under way");
            Response busy = chat(Map.of("messages", List.of(Map.of("role", "user", "content", "me too")), "max_tokens", 1), 503);
            assertEquals("1", busy.header("Retry-After"));
            JsonNode error = JSON.readTree(busy.asString()).get("error");
            assertEquals("server_error", error.get("type").asText());
            assertEquals("server_overloaded", error.get("code").asText());
        } finally {
            holding.cancel();
        }
        assertEquals(FinishReason.CANCELLED, holding.collect().done().reason(), "only the cancel ended the holding reply");
        assertTrue(Ready.idle(holder, Duration.ofSeconds(5)));
        chat(Map.of("messages", List.of(Map.of("role", "user", "content", "me too")), "max_tokens", 1));
    }

    /** With the key; the body in UTF-8, which RestAssured does not use unless told. */
    private static RequestSpecification api() {
        return given().header(AUTH).contentType("application/json; charset=UTF-8");
    }

    private static List<ChatMessage> messages(JsonNode conversation) {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : conversation.get("messages")) {
            String content = m.get("content").asText();
            messages.add(switch (m.get("role").asText()) {
                case "system" -> SystemMessage.from(content);
                case "user" -> UserMessage.from(content);
                default -> AiMessage.from(content);
            });
        }
        return messages;
    }

    /** The text of the reference's first MAX_TOKENS greedy tokens, as /detokenize gives it. */
    private static String referenceText(JsonNode conversation) {
        int[] ids = Arrays.copyOf(JSON.convertValue(conversation.get("output_ids"), int[].class), MAX_TOKENS);
        return api().body(Map.of("tokens", ids)).post("/detokenize").then().statusCode(200).extract().path("prompt");
    }

    private static JsonNode tokens(Map<String, Object> body) throws Exception {
        return JSON.readTree(api().body(body).post("/tokenize").then().statusCode(200).extract().asString()).get("tokens");
    }

    private static Response chat(Map<String, Object> body) {
        return chat(body, 200);
    }

    private static Response chat(Map<String, Object> body, int status) {
        return api().body(body).post("/v1/chat/completions").then().statusCode(status).extract().response();
    }

    private record Call(String method, String path, String body) {
        Response send(RequestSpecification request) {
            return body == null ? request.request(method, path) : request.body(body).request(method, path);
        }
    }
}
