package io.resident.api.openai;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A langchain4j streaming chat, read to its end.
 *
 * @param response  what the client assembled from the stream
 * @param partials  the text of each partial response, in order
 * @param toolCalls each partial tool call (a piece of a call's arguments), in order
 */
record Streamed(ChatResponse response, List<String> partials, List<PartialToolCall> toolCalls) {

    static Streamed chat(StreamingChatModel model, List<ChatMessage> messages) throws Exception {
        return chat(model, ChatRequest.builder().messages(messages).build());
    }

    static Streamed chat(StreamingChatModel model, ChatRequest request) throws Exception {
        List<String> partials = new CopyOnWriteArrayList<>();
        List<PartialToolCall> toolCalls = new CopyOnWriteArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                partials.add(partial);
            }

            @Override
            public void onPartialToolCall(PartialToolCall partial) {
                toolCalls.add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        return new Streamed(done.get(30, TimeUnit.SECONDS), List.copyOf(partials), List.copyOf(toolCalls));
    }
}
