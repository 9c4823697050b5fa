package io.resident.api.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.api.ApiException;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Arrays;
import java.util.List;

/**
 * POST /tokenize and /detokenize as vLLM's server has them. {"messages"} gives exactly the prompt that
 * /v1/chat/completions would send to the model, so its count is that request's prompt_tokens.
 */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
public class TokenizeResource {

    /**
     * @param prompt            plain text, or
     * @param messages          a conversation, through the chat template
     * @param addSpecialTokens  for a prompt: the model's prefix (BOS, [gMASK]sop) as /v1/completions adds it; default true
     * @param returnTokenStrs   also return each token's text
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record TokenizeRequest(String model, String prompt, List<ChatRequest.ChatMessage> messages, Boolean addSpecialTokens,
            Boolean returnTokenStrs) {}

    /** @param tokenStrs null unless asked for */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Tokens(int count, int maxModelLen, int[] tokens, List<String> tokenStrs) {}

    record DetokenizeRequest(String model, int[] tokens) {}

    record Detokenized(String prompt) {}

    private final ModelHolder holder;
    private final RequestJson requests;

    TokenizeResource(ModelHolder holder, RequestJson requests) {
        this.holder = holder;
        this.requests = requests;
    }

    @POST
    @Path("tokenize")
    public Tokens tokenize(byte[] body) {
        TokenizeRequest request = requests.read(body, TokenizeRequest.class);
        ServedModel model = ModelsResource.lookup(holder, request.model());
        if ((request.prompt() == null) == (request.messages() == null)) {
            throw ApiException.invalid(request.prompt() == null ? "prompt" : "messages",
                    "Send either 'prompt' (text) or 'messages' (a conversation), not both and not neither");
        }
        int[] ids;
        if (request.messages() != null) {
            ids = CompletionsResource.chatPrompt(model, ChatRequest.conversation(request.messages()), List.of());
        } else if (Boolean.FALSE.equals(request.addSpecialTokens())) {
            ids = model.tokenizer().encode(request.prompt());
        } else {
            ids = model.tokenizer().completionPrompt(request.prompt());
        }
        List<String> texts = Boolean.TRUE.equals(request.returnTokenStrs())
                ? Arrays.stream(ids).mapToObj(model.tokenizer()::tokenText).toList()
                : null;
        return new Tokens(ids.length, model.maxContext(), ids, texts);
    }

    @POST
    @Path("detokenize")
    public Detokenized detokenize(byte[] body) {
        DetokenizeRequest request = requests.read(body, DetokenizeRequest.class);
        ServedModel model = ModelsResource.lookup(holder, request.model());
        if (request.tokens() == null) {
            throw ApiException.invalid("tokens", "'tokens' is required: an array of token ids");
        }
        int vocab = model.engine().vocabSize();
        for (int i = 0; i < request.tokens().length; i++) {
            int id = request.tokens()[i];
            if (id < 0 || id >= vocab) {
                throw ApiException.invalid("tokens[" + i + "]", "'tokens[" + i + "]' is " + id
                        + ": token ids are in [0, " + vocab + ")");
            }
        }
        return new Detokenized(model.tokenizer().decode(request.tokens()));
    }
}
