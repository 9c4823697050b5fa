package io.resident.api.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.engine.GenerationEvent.Alternative;
import io.resident.engine.GenerationEvent.Token;
import io.resident.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * A chat choice's logprobs, as OpenAI shapes them: per generated token its text, log-probability, raw bytes (part of
 * a character for some tokens: joined, they are the reply's UTF-8) and the most likely alternatives (the chosen token
 * among them when it is one of the most likely).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record ChatLogprobs(List<Entry> content) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Entry(String token, double logprob, List<Integer> bytes, List<Top> topLogprobs) {}

    record Top(String token, double logprob, List<Integer> bytes) {}

    static ChatLogprobs of(List<Token> tokens, Tokenizer tokenizer) {
        return new ChatLogprobs(tokens.stream().map(t -> entry(t, tokenizer)).toList());
    }

    static Entry entry(Token token, Tokenizer tokenizer) {
        String text = tokenizer.tokenText(token.id());
        List<Top> top = new ArrayList<>(token.top().size());
        for (Alternative a : token.top()) {
            top.add(new Top(tokenizer.tokenText(a.id()), a.logprob(), bytes(tokenizer.tokenBytes(a.id()))));
        }
        return new Entry(text, token.logprob(), bytes(tokenizer.tokenBytes(token.id())), top);
    }

    /** A token's raw bytes as OpenAI lists them; none for a special token. */
    static List<Integer> bytes(byte[] raw) {
        if (raw == null) {
            return List.of();
        }
        List<Integer> out = new ArrayList<>(raw.length);
        for (byte b : raw) {
            out.add(b & 0xff);
        }
        return out;
    }
}
