package io.resident.api.openai;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real OpenAI clients other Java apps use, unchanged, against the running app and its demo model. */
@QuarkusTest
class OpenAiClientsTest {

    private static final int MAX_TOKENS = 6;

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
    void langchain4jBlockingAndStreamingAgreeOnAMultiTurnChat() throws Exception {
        List<ChatMessage> chat = List.of(
                SystemMessage.from("You are a terse assistant."),
                UserMessage.from("Name a colour."),
                AiMessage.from("Blue."),
                UserMessage.from("And another one?"));

        ChatResponse blocking = OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName("default")
                .temperature(0.0).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(30)).build().chat(chat);

        Streamed stream = Streamed.chat(OpenAiStreamingChatModel.builder().baseUrl(v1.toString()).apiKey("unused")
                .modelName(served.id()).temperature(0.0).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(30)).build(), chat);
        ChatResponse streamed = stream.response();

        assertEquals(blocking.aiMessage().text(), streamed.aiMessage().text());
        assertEquals(streamed.aiMessage().text(), String.join("", stream.partials()));
        int promptTokens = tokenize(List.of(
                Map.of("role", "system", "content", "You are a terse assistant."),
                Map.of("role", "user", "content", "Name a colour."),
                Map.of("role", "assistant", "content", "Blue."),
                Map.of("role", "user", "content", "And another one?")));
        for (ChatResponse response : List.of(blocking, streamed)) {
            assertEquals(promptTokens, response.tokenUsage().inputTokenCount());
            int output = response.tokenUsage().outputTokenCount();
            assertTrue(output >= 1 && output <= MAX_TOKENS, "output tokens " + output);
            assertEquals(output == MAX_TOKENS ? FinishReason.LENGTH : FinishReason.STOP, response.finishReason());
            assertEquals(promptTokens + output, response.tokenUsage().totalTokenCount());
        }
        assertEquals(blocking.tokenUsage().outputTokenCount(), streamed.tokenUsage().outputTokenCount());
    }

    @Test
    void openaiJavaBlockingAndStreamingAgreeAndLogprobsMatchTheChosenTokens() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(v1.toString()).apiKey("unused").maxRetries(0).build();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("default")
                .addSystemMessage("Answer in one word.")
                .addUserMessage("What is the capital of France?")
                .temperature(0)
                .maxCompletionTokens(MAX_TOKENS)
                .logprobs(true)
                .topLogprobs(3)
                .build();

        ChatCompletion blocking = client.chat().completions().create(params);
        ChatCompletion.Choice choice = blocking.choices().get(0);
        String text = choice.message().content().orElseThrow();
        List<ChatCompletionTokenLogprob> logprobs = choice.logprobs().orElseThrow().content().orElseThrow();
        long completionTokens = blocking.usage().orElseThrow().completionTokens();
        assertEquals(served.id(), blocking.model());
        assertEquals(tokenize(List.of(Map.of("role", "system", "content", "Answer in one word."),
                Map.of("role", "user", "content", "What is the capital of France?"))), blocking.usage().orElseThrow().promptTokens());
        assertEquals(completionTokens, logprobs.size() + (choice.finishReason() == ChatCompletion.Choice.FinishReason.STOP ? 1 : 0));
        StringBuilder joined = new StringBuilder();
        for (ChatCompletionTokenLogprob entry : logprobs) {
            assertEquals(3, entry.topLogprobs().size());
            // greedy: the chosen token is the most likely one, with the largest logprob
            assertEquals(entry.topLogprobs().get(0).token(), entry.token());
            assertEquals(entry.topLogprobs().get(0).logprob(), entry.logprob());
            assertTrue(entry.topLogprobs().stream().allMatch(t -> t.logprob() <= entry.logprob()));
            assertTrue(entry.logprob() < 0);
            joined.append(entry.token());
        }
        assertEquals(text, joined.toString());

        StringBuilder streamedText = new StringBuilder();
        List<Long> usage = new ArrayList<>();
        List<ChatCompletionChunk.Choice.FinishReason> finishes = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunk -> {
                chunk.choices().forEach(c -> {
                    c.delta().content().ifPresent(streamedText::append);
                    c.finishReason().ifPresent(finishes::add);
                });
                chunk.usage().ifPresent(u -> usage.add(u.completionTokens()));
            });
        }
        assertEquals(text, streamedText.toString());
        assertEquals(List.of(completionTokens), usage);
        assertEquals(1, finishes.size());
        assertEquals(choice.finishReason().asString(), finishes.get(0).asString());
    }

    @Test
    void openaiJavaListsTheDemoModelAsADemoAndCompletesText() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(v1.toString()).apiKey("unused").maxRetries(0).build();
        List<Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals("resident-demo", models.get(0).id());
        assertTrue(models.get(0).ownedBy().contains("demo"), models.get(0).ownedBy());

        Completion completion = client.completions().create(CompletionCreateParams.builder()
                .model("resident-demo").prompt("The capital of France is").maxTokens(4).temperature(0).build());
        assertEquals(tokenizePrompt("The capital of France is"), completion.usage().orElseThrow().promptTokens());
        assertEquals(4, completion.usage().orElseThrow().completionTokens());
        assertFalse(completion.choices().get(0).text().isEmpty());
    }

    private static int tokenize(List<Map<String, String>> messages) {
        return given().contentType("application/json").body(Map.of("messages", messages)).post("/tokenize").then().statusCode(200).extract().path("count");
    }

    private static int tokenizePrompt(String prompt) {
        return given().contentType("application/json").body(Map.of("prompt", prompt)).post("/tokenize").then().statusCode(200).extract().path("count");
    }
}
