package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import io.resident.grammar.Schemas;
import io.resident.tokenizer.Message;
import io.resident.tools.ToolCall;
import io.resident.tools.ToolDefinition;
import jakarta.inject.Inject;
import java.net.URL;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tools on the wire with the demo model (Qwen3's tokenizer and chat template, random weights): tool turns reach the
 * model as its template renders them, and a forced call comes back as OpenAI's tool_calls, whole and streamed (its
 * arguments as they are written), to raw requests and to openai-java.
 */
@QuarkusTest
class ToolCallsApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEATHER_SCHEMA = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":12},"
            + "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},\"required\":[\"city\",\"days\"],\"additionalProperties\":false}";
    private static final String TIME_SCHEMA = "{\"type\":\"object\",\"properties\":{\"zone\":{\"enum\":[\"UTC\",\"CET\"]}},"
            + "\"required\":[\"zone\"],\"additionalProperties\":false}";

    @Inject
    ModelHolder holder;

    @TestHTTPResource("/v1")
    URL v1;

    private ServedModel served;

    @BeforeEach
    void ready() throws InterruptedException {
        served = Ready.await(holder);
    }

    @Test
    void toolsCallsAndResultsReachTheModelThroughItsTemplate() throws Exception {
        List<Object> messages = List.of(
                Map.of("role", "user", "content", "Weather in Paris?"),
                json("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\",\\\"days\\\":2}\"}}]}"),
                Map.of("role", "tool", "tool_call_id", "call_1", "content", "sunny, 21 C"));
        List<Message> conversation = List.of(new Message("user", "Weather in Paris?"),
                new Message("assistant", null, List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\",\"days\":2}")), null),
                new Message("tool", "sunny, 21 C", List.of(), "call_1"));
        int withTools = served.tokenizer().chatPrompt(conversation, List.of(weather(), time())).length;

        assertEquals(withTools, promptTokens(Map.of("messages", messages, "tools", List.of(tool("get_weather", WEATHER_SCHEMA),
                tool("local_time", TIME_SCHEMA)))));
        // the legacy form renders the same conversation
        List<Object> legacy = List.of(messages.get(0),
                json("{\"role\":\"assistant\",\"content\":null,\"function_call\":{\"name\":\"get_weather\","
                        + "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\",\\\"days\\\":2}\"}}"),
                Map.of("role", "function", "name", "get_weather", "content", "sunny, 21 C"));
        assertEquals(withTools, promptTokens(Map.of("messages", legacy, "functions", List.of(
                json("{\"name\":\"get_weather\",\"description\":\"Weather for a city\",\"parameters\":" + WEATHER_SCHEMA + "}"),
                json("{\"name\":\"local_time\",\"description\":\"Time in a zone\",\"parameters\":" + TIME_SCHEMA + "}")))));
        // tool_choice none shows the model no tools
        assertEquals(served.tokenizer().chatPrompt(conversation).length, promptTokens(Map.of("messages", messages,
                "tools", List.of(tool("get_weather", WEATHER_SCHEMA)), "tool_choice", "none")));
    }

    @Test
    void aNamedFunctionIsCalledWithArgumentsItsSchemaAccepts() throws Exception {
        for (long seed : new long[] {1, 2, 3}) {
            Map<String, Object> body = forced(Map.of("type", "function", "function", Map.of("name", "get_weather")), seed);
            JsonNode choice = JSON.readTree(given().contentType("application/json").body(body).post("/v1/chat/completions").then().statusCode(200)
                    .extract().asString()).get("choices").get(0);
            assertEquals("tool_calls", choice.get("finish_reason").asText());
            JsonNode message = choice.get("message");
            assertTrue(message.get("content").isNull(), message.toString());
            assertEquals(1, message.get("tool_calls").size());
            JsonNode call = message.get("tool_calls").get(0);
            assertTrue(call.get("id").asText().matches("call_[0-9a-f]{24}"), call.toString());
            assertEquals("function", call.get("type").asText());
            assertEquals("get_weather", call.get("function").get("name").asText());
            JsonNode arguments = JSON.readTree(call.get("function").get("arguments").asText());
            assertEquals(List.of("city", "days"), fieldNames(arguments));
            assertTrue(arguments.get("city").asText().length() <= 12, arguments.toString());
            assertTrue(arguments.get("days").isInt() && arguments.get("days").asInt() >= 1 && arguments.get("days").asInt() <= 7,
                    arguments.toString());

            // streamed with the same seed: the same call, its id and name once, then its arguments
            body.put("stream", true);
            List<JsonNode> chunks = Sse.chunks(given().contentType("application/json").body(body).post("/v1/chat/completions").then().statusCode(200)
                    .extract().asString());
            List<JsonNode> fragments = new ArrayList<>();
            for (JsonNode chunk : chunks) {
                JsonNode delta = chunk.get("choices").get(0).get("delta");
                assertTrue(!delta.has("content") || delta.get("content").asText().isEmpty(), "no content: " + delta);
                delta.path("tool_calls").forEach(fragments::add);
            }
            assertEquals(call.get("function").get("name").asText(), fragments.get(0).get("function").get("name").asText());
            assertTrue(fragments.get(0).get("id").asText().startsWith("call_"));
            assertEquals("function", fragments.get(0).get("type").asText());
            StringBuilder streamed = new StringBuilder();
            for (JsonNode f : fragments) {
                assertEquals(0, f.get("index").asInt());
                streamed.append(f.get("function").path("arguments").asText());
                if (f != fragments.get(0)) {
                    assertFalse(f.has("id") || f.get("function").has("name"), "id and name come once: " + f);
                }
            }
            assertEquals(call.get("function").get("arguments").asText(), streamed.toString());
            assertTrue(fragments.stream().filter(f -> !f.get("function").path("arguments").asText().isEmpty()).count() > 1,
                    "the arguments stream as they are written: " + fragments);
            assertEquals("tool_calls", chunks.getLast().get("choices").get(0).get("finish_reason").asText());
        }
    }

    @Test
    void requiredCallsOneOfTheToolsAndLegacyRequestsGetAFunctionCall() throws Exception {
        JsonNode message = JSON.readTree(given().contentType("application/json").body(forced("required", 7)).post("/v1/chat/completions").then().statusCode(200)
                .extract().asString()).get("choices").get(0).get("message");
        JsonNode call = message.get("tool_calls").get(0).get("function");
        JsonNode arguments = JSON.readTree(call.get("arguments").asText());
        if (call.get("name").asText().equals("local_time")) {
            assertTrue(List.of("UTC", "CET").contains(arguments.get("zone").asText()), arguments.toString());
        } else {
            assertEquals("get_weather", call.get("name").asText());
            assertEquals(List.of("city", "days"), fieldNames(arguments));
        }

        Map<String, Object> legacy = new HashMap<>(Map.of("messages", List.of(Map.of("role", "user", "content", "Time?")),
                "functions", List.of(json("{\"name\":\"local_time\",\"parameters\":" + TIME_SCHEMA + "}")),
                "function_call", Map.of("name", "local_time"), "max_tokens", 64, "seed", 1, "temperature", 1.0));
        JsonNode choice = JSON.readTree(given().contentType("application/json").body(legacy).post("/v1/chat/completions").then().statusCode(200)
                .extract().asString()).get("choices").get(0);
        assertEquals("function_call", choice.get("finish_reason").asText());
        assertEquals("local_time", choice.get("message").get("function_call").get("name").asText());
        assertFalse(choice.get("message").has("tool_calls"));
        assertTrue(List.of("UTC", "CET").contains(JSON.readTree(choice.get("message").get("function_call").get("arguments")
                .asText()).get("zone").asText()));
    }

    @Test
    void aForcedCallWithFewTokensLeftStillClosesItsArguments() throws Exception {
        String search = "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"filters\":{\"type\":\"object\","
                + "\"properties\":{\"site\":{\"type\":\"string\"}},\"required\":[\"site\"]}},\"required\":[\"query\",\"filters\"]}";
        for (long seed = 1; seed <= 3; seed++) {
            for (boolean stream : new boolean[] {false, true}) {
                Map<String, Object> body = new HashMap<>(Map.of("messages", List.of(Map.of("role", "user", "content", "Search.")),
                        "tools", List.of(tool("search", search)), "tool_choice", "required", "max_tokens", 100,
                        "temperature", 1.0, "seed", seed, "stream", stream));
                String answer = given().contentType("application/json").body(body).post("/v1/chat/completions").then()
                        .statusCode(200).extract().asString();
                String arguments;
                String finish;
                if (stream) {
                    List<JsonNode> chunks = Sse.chunks(answer);
                    StringBuilder joined = new StringBuilder();
                    chunks.forEach(c -> c.get("choices").get(0).path("delta").path("tool_calls")
                            .forEach(f -> joined.append(f.get("function").path("arguments").asText())));
                    arguments = joined.toString();
                    finish = chunks.getLast().get("choices").get(0).get("finish_reason").asText();
                } else {
                    JsonNode choice = JSON.readTree(answer).get("choices").get(0);
                    arguments = choice.get("message").get("tool_calls").get(0).get("function").get("arguments").asText();
                    finish = choice.get("finish_reason").asText();
                }
                assertEquals("tool_calls", finish, answer);
                Schemas.assertValid(JSON.readTree(search), arguments);
            }
        }
    }

    /** A function as openai-java derives it from a class: the class's name, its fields' schema (strict). */
    @JsonClassDescription("The weather in a city over the next days")
    public static class GetWeather {
        public String city;
        public int days;
    }

    @Test
    void openaiJavaForcesACallReadsItAndSendsItsResultBack() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(v1.toString()).apiKey("unused").maxRetries(0).build();
        List<ChatCompletionToolChoiceOption> choices = List.of(
                ChatCompletionToolChoiceOption.ofAuto(ChatCompletionToolChoiceOption.Auto.REQUIRED),
                ChatCompletionToolChoiceOption.ofNamedToolChoice(ChatCompletionNamedToolChoice.builder()
                        .function(ChatCompletionNamedToolChoice.Function.builder().name("GetWeather").build()).build()));
        long seed = 1;
        for (ChatCompletionToolChoiceOption choice : choices) {
            ChatCompletionCreateParams ask = ChatCompletionCreateParams.builder().model("default").addUserMessage("Weather in Paris?")
                    .addTool(GetWeather.class).toolChoice(choice).temperature(1.0).seed(seed++).maxCompletionTokens(120).build();
            ChatCompletion first = client.chat().completions().create(ask);
            assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, first.choices().get(0).finishReason());
            ChatCompletionMessage message = first.choices().get(0).message();
            ChatCompletionMessageFunctionToolCall call = message.toolCalls().orElseThrow().getFirst().asFunction();
            assertTrue(call.id().startsWith("call_"), call.id());
            assertEquals("GetWeather", call.function().name());
            assertTrue(call.function().arguments(GetWeather.class).city != null, call.function().arguments());

            ChatCompletion answer = client.chat().completions().create(ask.toBuilder()
                    .toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO).maxCompletionTokens(16).addMessage(message)
                    .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("sunny, 21 C").build())
                    .build());
            ChatCompletion.Choice reply = answer.choices().get(0);
            assertTrue(reply.message().content().filter(text -> !text.isEmpty()).isPresent(), reply.toString());
            assertTrue(reply.message().toolCalls().map(List::isEmpty).orElse(true), reply.toString());
            assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, reply.finishReason(), reply.toString());
            assertEquals(16, answer.usage().orElseThrow().completionTokens());
            assertTrue(answer.usage().orElseThrow().promptTokens() > first.usage().orElseThrow().promptTokens(),
                    "the call and its result reach the model");
        }
    }

    private static Map<String, Object> forced(Object toolChoice, long seed) {
        return new HashMap<>(Map.of("messages", List.of(Map.of("role", "user", "content", "Weather in Paris?")),
                "tools", List.of(tool("get_weather", WEATHER_SCHEMA), tool("local_time", TIME_SCHEMA)),
                "tool_choice", toolChoice, "max_tokens", 96, "temperature", 1.0, "seed", seed));
    }

    private static int promptTokens(Map<String, Object> request) {
        Map<String, Object> body = new HashMap<>(request);
        body.put("max_tokens", 1);
        io.restassured.response.Response response = given().contentType("application/json").body(body).post("/v1/chat/completions");
        assertEquals(200, response.statusCode(), response.asString());
        return response.path("usage.prompt_tokens");
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static Object tool(String name, String schema) {
        String description = name.equals("get_weather") ? "Weather for a city" : "Time in a zone";
        return json("{\"type\":\"function\",\"function\":{\"name\":\"" + name + "\",\"description\":\"" + description
                + "\",\"parameters\":" + schema + "}}");
    }

    private static ToolDefinition weather() throws Exception {
        return new ToolDefinition("get_weather", "Weather for a city", JSON.readTree(WEATHER_SCHEMA), false);
    }

    private static ToolDefinition time() throws Exception {
        return new ToolDefinition("local_time", "Time in a zone", JSON.readTree(TIME_SCHEMA), false);
    }

    private static Object json(String text) {
        try {
            return JSON.readValue(text, Object.class);
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }
}
