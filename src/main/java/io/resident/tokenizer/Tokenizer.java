package io.resident.tokenizer;

import io.resident.tools.ToolDefinition;
import io.resident.tools.ToolFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A model's tokenizer and chat format, as its reference code has them. Thread-safe. */
public interface Tokenizer extends AutoCloseable {

    /** Plain text to ids, adding no special tokens; special-token text typed by a user stays plain text. */
    int[] encode(String text);

    /**
     * A plain-text prompt as the model's own tokenizer(text) builds it: with the prefix the model expects (Llama's
     * BOS, ChatGLM3's [gMASK]sop), for text completions and vLLM's /tokenize.
     */
    int[] completionPrompt(String text);

    /** Ids to text, leaving special tokens out. */
    String decode(int[] ids);

    /** The prompt ids for a conversation, ending with the assistant's turn opened, as the model's reference builds them. */
    default int[] chatPrompt(List<Message> messages) {
        return chatPrompt(messages, List.of());
    }

    /** The same, with functions the model may call shown to it as its chat format shows them (none: as without). */
    int[] chatPrompt(List<Message> messages, List<ToolDefinition> tools);

    /** How this model writes tool calls; empty when its chat format does not show it tools. */
    Optional<ToolFormat> toolFormat();

    /** Special tokens that are tool-call markup, by id, with their text: a reply's text leaves them out otherwise. */
    default Map<Integer, String> toolMarkup() {
        return Map.of();
    }

    /** Ids that end a reply: eos ids of the model's configs plus the family's end-of-turn tokens. */
    Set<Integer> stopIds();

    /** The text of one token as a reply would show it (for logprobs); empty for special tokens. */
    String tokenText(int id);

    /**
     * The bytes one token adds to a reply's UTF-8 text, half a character included (byte-level and byte-fallback
     * pieces); null for special tokens, which constrained output never holds. Indexed by id up to the vocabulary's end.
     */
    byte[] tokenBytes(int id);

    /** Ids with a piece: tokenBytes is null at and beyond this. */
    int vocabularySize();

    /** A fresh incremental decoder for one reply. */
    StreamDecoder streamDecoder();

    @Override
    void close();
}
