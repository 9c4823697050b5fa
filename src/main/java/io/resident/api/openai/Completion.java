package io.resident.api.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.engine.GenerationEvent.Alternative;
import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Token;
import io.resident.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The answer of POST /v1/completions ("object": "text_completion"), whole or one server-sent event of a stream (the
 * same shape; the usage only on the whole answer and, when asked, on a last chunk with no choices).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record Completion(String id, String object, long created, String model, List<Choice> choices,
        @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Choice(int index, String text, Logprobs logprobs, String finishReason) {}

    /**
     * The legacy logprobs shape: parallel lists per token, alternatives as {token text: logprob}, and each token's
     * character offset in the reply. A token that is part of a character is written as OpenAI writes it, its raw
     * bytes escaped: "bytes:\\xe4\\xbd".
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Logprobs(List<String> tokens, List<Double> tokenLogprobs, List<Map<String, Double>> topLogprobs,
            List<Integer> textOffset) {

        static Logprobs of(List<Token> tokens, int offset, Tokenizer tokenizer) {
            List<String> texts = new ArrayList<>();
            List<Double> logprobs = new ArrayList<>();
            List<Map<String, Double>> tops = new ArrayList<>();
            List<Integer> offsets = new ArrayList<>();
            for (Token token : tokens) {
                String text = text(tokenizer, token.id());
                texts.add(text);
                logprobs.add((double) token.logprob());
                Map<String, Double> top = new LinkedHashMap<>();
                for (Alternative a : token.top()) {
                    top.putIfAbsent(text(tokenizer, a.id()), (double) a.logprob());
                }
                tops.add(top);
                offsets.add(offset);
                offset += token.text().length();
            }
            return new Logprobs(texts, logprobs, tops, offsets);
        }

        private static String text(Tokenizer tokenizer, int id) {
            byte[] raw = tokenizer.tokenBytes(id);
            if (raw == null) {
                return tokenizer.tokenText(id); // a special token: no bytes, its text is empty
            }
            try {
                StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw));
                return tokenizer.tokenText(id);
            } catch (CharacterCodingException e) {
                StringBuilder escaped = new StringBuilder("bytes:");
                for (byte b : raw) {
                    escaped.append(String.format("\\x%02x", b & 0xff));
                }
                return escaped.toString();
            }
        }
    }

    static Completion of(String id, long created, String model, String text, Logprobs logprobs, String finishReason,
            Usage usage) {
        return new Completion(id, "text_completion", created, model, List.of(new Choice(0, text, logprobs, finishReason)), usage);
    }

    /** The chunks of one streamed reply. */
    static Replies.Chunks stream(String id, long created, String model, Tokenizer tokenizer, boolean logprobs,
            boolean includeUsage) {
        return new Replies.Chunks() {
            private int offset;

            @Override
            public List<Object> start() {
                return List.of();
            }

            @Override
            public List<Object> token(Token token) {
                if (token.text().isEmpty() && !logprobs) {
                    return List.of();
                }
                Logprobs entry = logprobs ? Logprobs.of(List.of(token), offset, tokenizer) : null;
                offset += token.text().length();
                return List.of(of(id, created, model, token.text(), entry, null, null));
            }

            @Override
            public List<Object> done(Done done) {
                Object finish = of(id, created, model, done.tail(), null, Replies.finishReason(done.reason()), null);
                return includeUsage
                        ? List.of(finish, new Completion(id, "text_completion", created, model, List.of(), Usage.of(done)))
                        : List.of(finish);
            }
        };
    }
}
