package io.resident.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecifications;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * langchain4j's own tool loop against the running app and its demo model: AiServices with a @Tool method, blocking
 * and streaming, answering in text or as a POJO (response_format json_schema), the loop by hand with
 * OpenAiChatModel, and a call's arguments streamed to OpenAiStreamingChatModel in pieces. The random-weight model is made to call by tool_choice
 * "required" on the first request; the request after the tool's result is free, so the loop ends with text.
 */
@QuarkusTest
class LangChain4jToolsTest {

    /** The tool langchain4j runs: it records what the model asked for. */
    static class Weather {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool("Current weather for a city")
        String weather(@P("the city") String city) {
            cities.add(city);
            return "sunny, 21 degrees";
        }
    }

    interface Assistant {
        String chat(String message);
    }

    /** What a structured answer is parsed into: langchain4j sends its JSON schema as response_format. */
    record Forecast(String city, int degrees) {}

    interface Forecaster {
        Forecast forecast(String request);
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    /** tool_choice required until a tool's result is in the conversation. */
    private static final UnaryOperator<ChatRequest> CALL_FIRST = request -> request.messages().getLast() instanceof ToolExecutionResultMessage
            ? request
            : request.toBuilder().parameters(request.parameters().overrideWith(
                    ChatRequestParameters.builder().toolChoice(ToolChoice.REQUIRED).build())).build();

    /** Room for a forced call: its markup and arguments. */
    private static final int MAX_TOKENS = 160;
    /** Room for the answer's JSON; its strings close when the budget runs short, wherever the model would have gone. */
    private static final int JSON_MAX_TOKENS = 200;

    @Inject
    ModelHolder holder;

    @TestHTTPResource("/v1")
    URL v1;

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
    }

    @Test
    void aiServicesCallsTheToolAndAnswersAfterItsResult() {
        Weather weather = new Weather();
        List<ChatRequest> sent = new CopyOnWriteArrayList<>();
        Assistant assistant = AiServices.builder(Assistant.class)
                .chatModel(OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName("default")
                        .temperature(1.0).seed(11).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(60)).build())
                .tools(weather)
                .chatRequestTransformer(request -> {
                    ChatRequest out = CALL_FIRST.apply(request);
                    sent.add(out);
                    return out;
                })
                .build();

        String answer = assistant.chat("What is the weather in Paris?");

        assertEquals(1, weather.cities.size(), "the model called the tool once: " + weather.cities);
        assertNotNull(weather.cities.getFirst(), "the call's argument reached the tool (empty is a string its schema allows)");
        assertEquals(2, sent.size(), "one request for the call, one with its result");
        assertTrue(sent.get(1).messages().getLast() instanceof ToolExecutionResultMessage result
                && result.text().equals("sunny, 21 degrees"));
        assertFalse(answer.contains("<tool_call>"), answer);
    }

    @Test
    void aiServicesCallsTheToolThenAnswersWithAPojo() {
        Weather weather = new Weather();
        Forecaster forecaster = AiServices.builder(Forecaster.class)
                .chatModel(OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName("default")
                        .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true)
                        .temperature(1.0).seed(11).maxTokens(JSON_MAX_TOKENS).timeout(Duration.ofSeconds(120)).build())
                .tools(weather)
                .chatRequestTransformer(CALL_FIRST)
                .build();

        Forecast forecast = forecaster.forecast("What is the weather in Paris?");

        assertEquals(1, weather.cities.size(), "the model called the tool once: " + weather.cities);
        assertTrue(forecast.city() != null, "the answer after the result, parsed: " + forecast);
    }

    @Test
    void streamingAiServicesCallsTheToolToo() throws Exception {
        Weather weather = new Weather();
        StreamingAssistant assistant = AiServices.builder(StreamingAssistant.class)
                .streamingChatModel(OpenAiStreamingChatModel.builder().baseUrl(v1.toString()).apiKey("unused")
                        .modelName("default").temperature(1.0).seed(11).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(60)).build())
                .tools(weather)
                .chatRequestTransformer(CALL_FIRST)
                .build();

        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        List<String> partials = new CopyOnWriteArrayList<>();
        assistant.chat("What is the weather in Paris?")
                .onPartialResponse(partials::add)
                .onCompleteResponse(done::complete)
                .onError(done::completeExceptionally)
                .start();
        ChatResponse response = done.get(120, TimeUnit.SECONDS);

        assertEquals(1, weather.cities.size(), "the model called the tool once: " + weather.cities);
        assertFalse(response.aiMessage().hasToolExecutionRequests());
        assertEquals(response.aiMessage().text(), String.join("", partials), "the answer after the result, streamed");
    }

    @Test
    void theStreamingModelGetsTheCallsArgumentsInPieces() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(v1.toString()).apiKey("unused")
                .modelName("default").temperature(1.0).seed(11).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(60)).build();
        Streamed stream = Streamed.chat(model, ChatRequest.builder().messages(UserMessage.from("What is the weather in Paris?"))
                .toolSpecifications(ToolSpecifications.toolSpecificationsFrom(Weather.class)).toolChoice(ToolChoice.REQUIRED).build());
        ToolExecutionRequest call = stream.response().aiMessage().toolExecutionRequests().getFirst();
        List<PartialToolCall> partials = stream.toolCalls();

        assertTrue(partials.size() > 1, "the arguments came in several deltas: " + partials);
        assertTrue(partials.stream().allMatch(p -> p.index() == 0 && p.id().equals(call.id()) && p.name().equals("weather")));
        assertEquals(call.arguments(), partials.stream().map(PartialToolCall::partialArguments).collect(Collectors.joining()));
        assertTrue(call.arguments().matches("\\{\"\\w+\":\".*\"}"), "one string argument: " + call.arguments());
    }

    @Test
    void theToolLoopByHandRoundTripsIdsAndResults() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName("default")
                .temperature(1.0).seed(11).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(60)).build();
        dev.langchain4j.agent.tool.ToolSpecification spec = dev.langchain4j.agent.tool.ToolSpecifications
                .toolSpecificationsFrom(Weather.class).getFirst();
        List<ChatMessage> messages = new ArrayList<>(List.of(UserMessage.from("What is the weather in Paris?")));

        ChatResponse first = model.chat(ChatRequest.builder().messages(messages).toolSpecifications(spec)
                .toolChoice(ToolChoice.REQUIRED).build());
        assertEquals(FinishReason.TOOL_EXECUTION, first.finishReason());
        AiMessage call = first.aiMessage();
        assertEquals(1, call.toolExecutionRequests().size());
        ToolExecutionRequest request = call.toolExecutionRequests().getFirst();
        assertEquals("weather", request.name());
        assertTrue(request.id().startsWith("call_"), request.id());
        assertTrue(request.arguments().matches("\\{\"\\w+\":\".*\"}"), "one string argument: " + request.arguments());

        messages.add(call);
        messages.add(ToolExecutionResultMessage.from(request, "snow, -3 degrees"));
        ChatResponse second = model.chat(ChatRequest.builder().messages(messages).toolSpecifications(spec).build());
        assertFalse(second.aiMessage().hasToolExecutionRequests());
        assertTrue(second.tokenUsage().inputTokenCount() > first.tokenUsage().inputTokenCount());
    }
}
