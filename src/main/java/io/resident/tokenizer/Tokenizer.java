package io.resident.tokenizer;

import java.util.List;
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
    int[] chatPrompt(List<Message> messages);

    /** Ids that end a reply: eos ids of the model's configs plus the family's end-of-turn tokens. */
    Set<Integer> stopIds();

    /** The text of one token as a reply would show it (for logprobs); empty for special tokens. */
    String tokenText(int id);

    /** The raw bytes one token adds to a reply's UTF-8 (part of a character for some); none for special tokens. */
    byte[] tokenBytes(int id);

    /** A fresh incremental decoder for one reply. */
    StreamDecoder streamDecoder();

    @Override
    void close();
}
