package io.resident.api.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.api.ApiException;
import io.resident.api.WaitShares;
import io.resident.engine.Generation;
import io.resident.engine.GenerationRequest;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import io.resident.grammar.Grammar;
import io.resident.tokenizer.Message;
import io.resident.tools.ToolCall;
import io.resident.tools.ToolDefinition;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's generation endpoints on the served model, whole or streamed, without server-side memory: POST
 * /v1/chat/completions (through the chat template) and POST /v1/completions (one raw prompt). Each request blocks
 * a virtual thread on its reply and watches its connection while it waits.
 */
@Path("/v1")
public class CompletionsResource {

    private final ModelHolder holder;
    private final RequestJson requests;
    private final ObjectMapper json;
    private final WaitShares shares;

    CompletionsResource(ModelHolder holder, RequestJson requests, ObjectMapper json, WaitShares shares) {
        this.holder = holder;
        this.requests = requests;
        this.json = json;
        this.shares = shares;
    }

    @POST
    @Path("chat/completions")
    @RunOnVirtualThread
    public Response chat(byte[] body, @Context HttpServerRequest http) throws InterruptedException {
        HttpServerResponse client = http.response();
        ChatRequest request = requests.read(body, ChatRequest.class);
        ServedModel model = ModelsResource.lookup(holder, request.model());
        ToolUse tools = request.toolUse();
        if (tools.active() && model.tokenizer().toolFormat().isEmpty()) {
            throw ApiException.invalid(tools.legacy() ? "functions" : "tools", "The model's chat template does not show "
                    + "it tools, so it cannot call them");
        }
        Grammar format = ResponseFormats.grammar(request.responseFormat());
        // a forced call is the whole reply; response_format then holds no text to shape
        Grammar forced = tools.active() ? tools.forcedCall(model.tokenizer().toolFormat().orElseThrow()) : null;
        int[] prompt = chatPrompt(model, request.conversation(), tools.active() ? tools.tools() : List.of());
        TokenStream stream = Replies.submit(model, new GenerationRequest(prompt, Sampling.params(request, model,
                "messages", prompt.length, request.tokenLimit(), request.alternatives())
                .withGrammar(forced != null ? forced : format)), http, shares);

        String id = Ids.next("chatcmpl-");
        long created = Ids.now();
        ToolReply reader = ToolReply.of(tools, model.tokenizer());
        if (request.streaming()) {
            return Replies.events(stream, client, json, ChatCompletionChunk.stream(id, created, model.id(),
                    model.tokenizer(), reader, request.wantsLogprobs(), request.includeUsage()));
        }
        Generation reply = Replies.collect(stream, client);
        ChatLogprobs logprobs = request.wantsLogprobs() ? ChatLogprobs.of(reply.tokens(), model.tokenizer()) : null;
        StringBuilder text = new StringBuilder();
        List<ToolReply.Part> parts = new ArrayList<>();
        reply.tokens().forEach(token -> parts.addAll(reader.token(token)));
        parts.addAll(reader.end(reply.done().tail()));
        parts.forEach(part -> text.append(part instanceof ToolReply.Text t ? t.text() : ""));
        List<ToolCall> calls = ToolReply.calls(parts);
        return json(ChatCompletion.of(id, created, model.id(), ChatCompletion.message(text.toString(), calls, reader.legacy()),
                logprobs, reader.finishReason(reply.done().reason()), Usage.of(reply.done())));
    }

    @POST
    @Path("completions")
    @RunOnVirtualThread
    public Response text(byte[] body, @Context HttpServerRequest http) throws InterruptedException {
        HttpServerResponse client = http.response();
        CompletionRequest request = requests.read(body, CompletionRequest.class);
        ServedModel model = ModelsResource.lookup(holder, request.model());
        request.refuseUnsupported();
        int[] prompt = request.promptIds(model);
        TokenStream stream = Replies.submit(model, new GenerationRequest(prompt, Sampling.params(request, model,
                "prompt", prompt.length, request.tokenLimit(), request.alternatives())
                .withGrammar(ResponseFormats.grammar(request.responseFormat()))), http, shares);

        String id = Ids.next("cmpl-");
        long created = Ids.now();
        boolean logprobs = request.logprobs() != null;
        if (request.streaming()) {
            return Replies.events(stream, client, json,
                    Completion.stream(id, created, model.id(), model.tokenizer(), logprobs, request.includeUsage()));
        }
        Generation reply = Replies.collect(stream, client);
        Completion.Logprobs entries = logprobs ? Completion.Logprobs.of(reply.tokens(), 0, model.tokenizer()) : null;
        return json(Completion.of(id, created, model.id(), reply.text(), entries,
                Replies.finishReason(reply.done().reason()), Usage.of(reply.done())));
    }

    /** The chat template's prompt; a conversation the template refuses (a role the family lacks) is a 400. */
    static int[] chatPrompt(ServedModel model, List<Message> conversation, List<ToolDefinition> tools) {
        try {
            return model.tokenizer().chatPrompt(conversation, tools);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("messages", "The model's chat template refused the messages: " + e.getMessage());
        }
    }

    private static Response json(Object answer) {
        return Response.ok(answer, MediaType.APPLICATION_JSON_TYPE).build();
    }
}
