package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** POST /v1/chat/completions on the wire: OpenAI's JSON shape, its event stream, logprobs, usage and sampling fields. */
@QuarkusTest
class ChatCompletionsApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Map<String, Object>> HELLO = List.of(
            Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", "Hello!"));

    @Inject
    ModelHolder holder;

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
    }

    @Test
    void answerHasOpenAiShapeAndRightUsage() throws Exception {
        Response response = post(request(Map.of("model", "default", "max_tokens", 4)));
        assertEquals("application/json", response.contentType());
        JsonNode answer = JSON.readTree(response.asString());
        assertTrue(answer.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", answer.get("object").asText());
        assertTrue(Math.abs(answer.get("created").asLong() - System.currentTimeMillis() / 1000) < 60);
        assertEquals("resident-demo", answer.get("model").asText(), "'default' is answered with the served id");
        JsonNode choice = answer.get("choices").get(0);
        assertEquals(1, answer.get("choices").size());
        assertEquals(0, choice.get("index").asInt());
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertTrue(choice.get("message").get("content").isTextual());
        assertTrue(choice.get("logprobs").isNull(), "logprobs is null unless asked for");
        assertEquals("length", choice.get("finish_reason").asText());
        JsonNode usage = answer.get("usage");
        assertEquals(tokenCount(HELLO), usage.get("prompt_tokens").asInt());
        assertEquals(4, usage.get("completion_tokens").asInt());
        assertEquals(usage.get("prompt_tokens").asInt() + 4, usage.get("total_tokens").asInt());
    }

    @Test
    void streamIsRoleThenTextThenFinishThenUsageThenDone() throws Exception {
        JsonNode blocking = JSON.readTree(post(request(Map.of("max_tokens", 5))).asString());
        Response response = post(request(Map.of("max_tokens", 5, "stream", true, "stream_options", Map.of("include_usage", true))));
        assertTrue(response.contentType().startsWith("text/event-stream"), response.contentType());
        List<JsonNode> chunks = Sse.chunks(response.asString());

        JsonNode first = chunks.get(0).get("choices").get(0);
        assertEquals("assistant", first.get("delta").get("role").asText());
        assertEquals("", first.get("delta").get("content").asText());
        JsonNode usageChunk = chunks.get(chunks.size() - 1);
        assertEquals(0, usageChunk.get("choices").size());
        assertSameUsageWithTheFirstsFullBlocksCached(blocking.get("usage"), usageChunk.get("usage"));
        JsonNode finish = chunks.get(chunks.size() - 2);
        assertEquals(blocking.get("choices").get(0).get("finish_reason"), finish.get("choices").get(0).get("finish_reason"));
        for (JsonNode chunk : chunks) {
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            assertEquals(chunks.get(0).get("id"), chunk.get("id"));
        }
        assertTrue(chunks.subList(0, chunks.size() - 2).stream()
                .allMatch(c -> c.get("choices").get(0).get("finish_reason").isNull()), "finish_reason only on the last chunk");
        assertTrue(chunks.subList(0, chunks.size() - 2).stream().noneMatch(c -> c.has("usage")), "usage only on the last chunk");
        assertEquals(blocking.get("choices").get(0).get("message").get("content").asText(), Sse.text(chunks));

        List<JsonNode> withoutUsage = Sse.chunks(post(request(Map.of("max_tokens", 5, "stream", true))).asString());
        assertTrue(withoutUsage.stream().noneMatch(c -> c.has("usage")));
        assertEquals(Sse.text(chunks), Sse.text(withoutUsage));
    }

    @Test
    void aResentConversationReportsTheCachedPromptTokens() throws Exception {
        Map<String, Object> body = Map.of("max_tokens", 2, "messages", List.of(
                Map.of("role", "system", "content", "You are the timetable desk of a ferry line " + System.nanoTime()
                        + ": answer with departure times only, in 24-hour notation, one per line."),
                Map.of("role", "user", "content", "When does the first boat leave on Saturday?")));
        JsonNode first = JSON.readTree(post(body).asString()).get("usage");
        assertEquals(0, first.at("/prompt_tokens_details/cached_tokens").asInt(), "a new prompt: nothing cached");
        JsonNode again = JSON.readTree(post(body).asString()).get("usage");
        assertSameUsageWithTheFirstsFullBlocksCached(first, again);
        assertTrue(again.at("/prompt_tokens_details/cached_tokens").asInt() >= 32, again.toString());
    }

    /** The second of two requests with the same prompt: the same counts, and the first's full blocks of 16 cached. */
    private static void assertSameUsageWithTheFirstsFullBlocksCached(JsonNode first, JsonNode second) {
        int prompt = second.get("prompt_tokens").asInt();
        assertEquals((prompt - 1) / 16 * 16, second.at("/prompt_tokens_details/cached_tokens").asInt(), second.toString());
        ObjectNode a = first.deepCopy(), b = second.deepCopy();
        assertEquals(a.without("prompt_tokens_details"), b.without("prompt_tokens_details"));
    }

    @Test
    void streamedLogprobsAreTheBlockingOnes() throws Exception {
        Map<String, Object> fields = Map.of("max_tokens", 5, "logprobs", true, "top_logprobs", 2);
        JsonNode choice = JSON.readTree(post(request(fields)).asString()).get("choices").get(0);
        JsonNode blocking = choice.get("logprobs").get("content");
        Map<String, Object> streaming = new HashMap<>(fields);
        streaming.put("stream", true);
        List<JsonNode> chunks = Sse.chunks(post(request(streaming)).asString());
        List<JsonNode> streamed = chunks.stream().flatMap(c -> c.get("choices").valueStream())
                .filter(c -> !c.get("logprobs").isNull()).map(c -> c.get("logprobs").get("content").get(0)).toList();
        assertEquals(5, blocking.size());
        assertEquals(List.copyOf(blocking.valueStream().toList()), streamed);
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (JsonNode entry : blocking) {
            assertEquals(entry.get("top_logprobs").get(0).get("logprob"), entry.get("logprob"));
            entry.get("bytes").forEach(b -> joined.write(b.asInt()));
        }
        assertEquals(choice.get("message").get("content").asText(), joined.toString(StandardCharsets.UTF_8),
                "the tokens' bytes, joined, are the reply's UTF-8");
    }

    @Test
    void textPartsReadAsTheirJoinedString() throws Exception {
        List<Map<String, Object>> parts = List.of(Map.of("role", "user", "content", List.of(
                Map.of("type", "text", "text", "Hello"), Map.of("type", "text", "text", "there"))));
        List<Map<String, Object>> joined = List.of(Map.of("role", "user", "content", "Hello\nthere"));
        assertEquals(tokenCount(joined), tokenCount(parts));
        assertEquals(content(Map.of("messages", parts, "max_tokens", 4, "temperature", 0)),
                content(Map.of("messages", joined, "max_tokens", 4, "temperature", 0)));
    }

    @Test
    void unknownFieldsAreIgnoredAndNeutralOnesAccepted() {
        Map<String, Object> body = new HashMap<>(request(Map.of("max_tokens", 2, "n", 1, "logit_bias", Map.of())));
        body.putAll(Map.of("user", "someone", "store", false, "metadata", Map.of("k", "v"), "parallel_tool_calls", true,
                "service_tier", "auto", "no_such_field", List.of(1, 2), "tools", List.of(), "response_format", Map.of("type", "text")));
        given().contentType("application/json").body(body).post("/v1/chat/completions").then().statusCode(200);
    }

    @Test
    void sameSeedSameSampleAndPenaltiesChangeTheReply() throws Exception {
        Map<String, Object> sampled = Map.of("max_tokens", 6, "temperature", 1.0, "top_p", 0.95, "seed", 42);
        assertEquals(content(request(sampled)), content(request(sampled)));

        // long enough for the greedy reply to come back to a word it used
        String greedy = content(request(Map.of("max_tokens", 40)));
        String penalized = content(request(Map.of("max_tokens", 40, "frequency_penalty", 2.0, "presence_penalty", 2.0)));
        assertNotEquals(greedy, penalized, "repeating a token costs it its place at the top");
    }

    @Test
    void textCompletionsBlockingStreamedAndFromTokenIds() throws Exception {
        String prompt = "The capital of France is";
        JsonNode blocking = JSON.readTree(given().contentType("application/json").body(Map.of("prompt", prompt, "max_tokens", 4, "temperature", 0, "logprobs", 2))
                .post("/v1/completions").then().statusCode(200).extract().asString());
        assertEquals("text_completion", blocking.get("object").asText());
        assertTrue(blocking.get("id").asText().startsWith("cmpl-"));
        JsonNode choice = blocking.get("choices").get(0);
        assertEquals("length", choice.get("finish_reason").asText());
        JsonNode logprobs = choice.get("logprobs");
        assertEquals(4, logprobs.get("tokens").size());
        assertEquals(choice.get("text").asText(), String.join("", logprobs.get("tokens").valueStream().map(JsonNode::asText).toList()));
        int offset = 0;
        for (int i = 0; i < 4; i++) {
            assertEquals(offset, logprobs.get("text_offset").get(i).asInt());
            offset += logprobs.get("tokens").get(i).asText().length();
            JsonNode top = logprobs.get("top_logprobs").get(i);
            assertEquals(2, top.size());
            double best = top.valueStream().mapToDouble(JsonNode::asDouble).max().orElseThrow();
            assertEquals(best, logprobs.get("token_logprobs").get(i).asDouble());
        }
        JsonNode ids = JSON.readTree(given().contentType("application/json").body(Map.of("prompt", prompt)).post("/tokenize").asString()).get("tokens");
        assertEquals(ids.size(), blocking.get("usage").get("prompt_tokens").asInt());

        List<JsonNode> streamed = Sse.chunks(given().contentType("application/json").body(Map.of("prompt", ids, "max_tokens", 4, "temperature", 0, "stream", true,
                "stream_options", Map.of("include_usage", true))).post("/v1/completions").then().statusCode(200).extract().asString());
        assertEquals(choice.get("text").asText(), Sse.text(streamed));
        assertSameUsageWithTheFirstsFullBlocksCached(blocking.get("usage"), streamed.get(streamed.size() - 1).get("usage"));
        assertEquals("length", streamed.get(streamed.size() - 2).get("choices").get(0).get("finish_reason").asText());
    }

    @Test
    void modelsSayTheDemoIsADemo() throws Exception {
        JsonNode list = JSON.readTree(given().get("/v1/models").then().statusCode(200).extract().asString());
        assertEquals("list", list.get("object").asText());
        JsonNode card = list.get("data").get(0);
        assertEquals(1, list.get("data").size());
        assertEquals("resident-demo", card.get("id").asText());
        assertEquals("model", card.get("object").asText());
        assertTrue(card.get("demo").asBoolean());
        assertTrue(card.get("owned_by").asText().contains("demo"));
        assertTrue(card.get("description").asText().startsWith("DEMO MODEL"), card.toString());
        assertEquals(4096, card.get("max_model_len").asInt());
        for (String id : List.of("resident-demo", "default")) {
            assertEquals(card, JSON.readTree(given().get("/v1/models/" + id).then().statusCode(200).extract().asString()));
        }
    }

    @Test
    void tokenizeAndDetokenizeAsVllm() throws Exception {
        JsonNode tokens = JSON.readTree(given().contentType("application/json").body(Map.of("prompt", "Hello world", "return_token_strs", true))
                .post("/tokenize").then().statusCode(200).extract().asString());
        assertEquals(tokens.get("tokens").size(), tokens.get("count").asInt());
        assertEquals(4096, tokens.get("max_model_len").asInt());
        assertEquals("Hello world", String.join("", tokens.get("token_strs").valueStream().map(JsonNode::asText).toList()));
        assertEquals("Hello world", given().contentType("application/json").body(Map.of("tokens", tokens.get("tokens"))).post("/detokenize")
                .then().statusCode(200).extract().path("prompt"));
        JsonNode chat = JSON.readTree(given().contentType("application/json").body(Map.of("messages", HELLO)).post("/tokenize").asString());
        assertTrue(given().contentType("application/json").body(Map.of("tokens", chat.get("tokens"))).post("/detokenize").then().extract()
                .<String>path("prompt").contains("Be brief."));
        assertNull(chat.get("token_strs").textValue());
    }

    private static Map<String, Object> request(Map<String, Object> fields) {
        Map<String, Object> body = new HashMap<>(Map.of("messages", HELLO, "temperature", 0));
        body.putAll(fields);
        return body;
    }

    private static Response post(Map<String, Object> body) {
        return given().contentType("application/json").body(body).post("/v1/chat/completions").then().statusCode(200).extract().response();
    }

    private static String content(Map<String, Object> body) throws Exception {
        return JSON.readTree(post(body).asString()).get("choices").get(0).get("message").get("content").asText();
    }

    static int tokenCount(List<Map<String, Object>> messages) {
        return given().contentType("application/json").body(Map.of("messages", messages)).post("/tokenize").then().statusCode(200).extract().path("count");
    }
}
