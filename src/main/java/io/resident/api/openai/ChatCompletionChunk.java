package io.resident.api.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.api.openai.ChatCompletion.Function;
import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Token;
import io.resident.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * One server-sent event of a streamed chat completion ("object": "chat.completion.chunk"): the assistant's role
 * first, then the text as it comes, each tool call as a chunk with its index, id and name and then its arguments as
 * they are written, a last chunk with finish_reason and, when asked, one with the usage and no choices.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record ChatCompletionChunk(String id, String object, long created, String model, List<Choice> choices,
        @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Choice(int index, Delta delta, ChatLogprobs logprobs, String finishReason) {}

    /** @param functionCall a legacy functions request's call, in place of tool_calls */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Delta(String role, String content, List<CallDelta> toolCalls, Function functionCall) {

        Delta(String role, String content) {
            this(role, content, null, null);
        }
    }

    /** A fragment of the call at index: its id and type come once, with the name, in its first fragment. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record CallDelta(int index, String id, String type, Function function) {}

    /** The chunks of one streamed reply. */
    static Replies.Chunks stream(String id, long created, String model, Tokenizer tokenizer, ToolReply reply,
            boolean logprobs, boolean includeUsage) {
        return new Replies.Chunks() {
            @Override
            public List<Object> start() {
                return List.of(chunk(new Delta("assistant", ""), null, null));
            }

            @Override
            public List<Object> token(Token token) {
                List<Delta> deltas = deltas(reply.token(token));
                if (!logprobs) {
                    return deltas.stream().map(d -> (Object) chunk(d, null, null)).toList();
                }
                // the token's logprobs go with its first chunk, or with an empty one while its text is held back
                ChatLogprobs entry = new ChatLogprobs(List.of(ChatLogprobs.entry(token, tokenizer)));
                List<Object> out = new ArrayList<>();
                out.add(chunk(deltas.isEmpty() ? new Delta(null, "") : deltas.get(0), entry, null));
                deltas.stream().skip(1).forEach(d -> out.add(chunk(d, null, null)));
                return out;
            }

            @Override
            public List<Object> done(Done done) {
                List<Delta> deltas = new ArrayList<>(deltas(reply.end(done.tail())));
                // the last text, when that is all that came at the end, rides in the finishing chunk
                Delta last = deltas.size() == 1 && deltas.get(0).content() != null ? deltas.remove(0) : new Delta(null, null);
                List<Object> out = new ArrayList<>();
                deltas.forEach(d -> out.add(chunk(d, null, null)));
                out.add(chunk(last, null, reply.finishReason(done.reason())));
                if (includeUsage) {
                    out.add(new ChatCompletionChunk(id, "chat.completion.chunk", created, model, List.of(), Usage.of(done)));
                }
                return out;
            }

            private List<Delta> deltas(List<ToolReply.Part> parts) {
                List<Delta> deltas = new ArrayList<>();
                for (ToolReply.Part part : parts) {
                    switch (part) {
                        case ToolReply.Text t -> deltas.add(new Delta(null, t.text()));
                        case ToolReply.Called c -> {
                            deltas.add(opened(c.index(), c.call().id(), c.call().name()));
                            deltas.add(argued(c.index(), c.call().arguments()));
                        }
                        case ToolReply.Opened o -> deltas.add(opened(o.index(), o.id(), o.name()));
                        case ToolReply.Argued a -> deltas.add(argued(a.index(), a.text()));
                    }
                }
                return deltas;
            }

            /** A call's first delta: its id and name (the legacy form has no id), and no arguments yet. */
            private Delta opened(int index, String callId, String name) {
                return reply.legacy() ? new Delta(null, null, null, new Function(name, ""))
                        : new Delta(null, null, List.of(new CallDelta(index, callId, "function", new Function(name, ""))), null);
            }

            private Delta argued(int index, String arguments) {
                return reply.legacy() ? new Delta(null, null, null, new Function(null, arguments))
                        : new Delta(null, null, List.of(new CallDelta(index, null, null, new Function(null, arguments))), null);
            }

            private ChatCompletionChunk chunk(Delta delta, ChatLogprobs entry, String finishReason) {
                return new ChatCompletionChunk(id, "chat.completion.chunk", created, model,
                        List.of(new Choice(0, delta, entry, finishReason)), null);
            }
        };
    }
}
