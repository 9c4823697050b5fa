package io.resident.engine;

import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Token;
import java.util.List;

/**
 * A whole reply, read to its end.
 *
 * @param tokens the generated tokens (a final stop id is not among them)
 * @param text   the reply's text (stop string excluded)
 * @param done   why it ended, usage and timings
 */
public record Generation(List<Token> tokens, String text, Done done) {

    public int[] tokenIds() {
        return tokens.stream().mapToInt(Token::id).toArray();
    }
}
