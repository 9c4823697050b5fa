package io.resident.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.api.ApiException;
import io.resident.engine.ServedModel;
import io.resident.model.GenerationDefaults;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** vLLM's ignore_eos field, read from chat and text completion bodies into the engine's sampling parameters. */
class IgnoreEosTest {

    private static final RequestJson JSON = new RequestJson(new ObjectMapper());
    private static final ServedModel MODEL = new ServedModel("m", false, "qwen2", "cpu", "float32", 4096, "none", null,
            null, GenerationDefaults.NONE);

    private static <T> T read(String body, Class<T> type) {
        return JSON.read(body.getBytes(StandardCharsets.UTF_8), type);
    }

    @Test
    void reachesTheSamplingParametersOnlyWhenTrue() {
        String messages = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";
        for (String field : new String[] {"", ", \"ignore_eos\": false", ", \"ignore_eos\": null"}) {
            ChatRequest chat = read("{" + messages + field + "}", ChatRequest.class);
            assertFalse(Sampling.params(chat, MODEL, "messages", 5, chat.tokenLimit(), 0).ignoreEos(), field);
        }
        ChatRequest chat = read("{" + messages + ", \"max_tokens\": 7, \"ignore_eos\": true}", ChatRequest.class);
        assertTrue(Sampling.params(chat, MODEL, "messages", 5, chat.tokenLimit(), 0).ignoreEos());
        CompletionRequest completion = read("{\"prompt\": \"hi\", \"ignore_eos\": true}", CompletionRequest.class);
        assertTrue(Sampling.params(completion, MODEL, "prompt", 2, completion.tokenLimit(), 0).ignoreEos());
    }

    @Test
    void aValueThatIsNoBooleanIsA400NamingTheField() {
        ApiException e = assertThrows(ApiException.class,
                () -> read("{\"prompt\": \"hi\", \"ignore_eos\": \"yes\"}", CompletionRequest.class));
        assertEquals(400, e.status());
        assertEquals("ignore_eos", e.body().error().param());
    }
}
