package io.resident.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * ChatGLM3's tokenizer as THUDM's tokenization_chatglm.py builds it: a SentencePiece model plus nine special tokens
 * numbered after its vocabulary, and chat prompts assembled at the token level (build_chat_input), so that text a
 * user types, "<|user|>" included, never becomes a special token.
 */
final class ChatGlm3Tokenizer implements Tokenizer {

    /** The special tokens in id order, starting at the sp vocabulary size. */
    static final List<String> SPECIAL_TOKENS = List.of(
            "[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>");
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "observation");

    private final SentencePieceModel sp;
    private final int[] newline;
    private final Set<Integer> stopIds;

    ChatGlm3Tokenizer(Path tokenizerModel, Set<Integer> configEosIds) {
        sp = SentencePieceModel.read(tokenizerModel);
        newline = sp.encode("\n");
        Set<Integer> stops = new LinkedHashSet<>(configEosIds);
        stops.add(2); // </s>: chat() stops on it whatever the config says
        stops.add(special("<|user|>"));
        stops.add(special("<|observation|>"));
        stopIds = Set.copyOf(stops);
    }

    int special(String token) {
        return sp.size() + SPECIAL_TOKENS.indexOf(token);
    }

    @Override
    public int[] encode(String text) {
        return sp.encode(text);
    }

    /** THUDM's build_inputs_with_special_tokens: [gMASK] sop, then the text (special-token text stays plain). */
    @Override
    public int[] completionPrompt(String text) {
        SentencePieceModel.IntList ids = new SentencePieceModel.IntList();
        ids.add(special("[gMASK]"));
        ids.add(special("sop"));
        ids.addAll(sp.encode(text));
        return ids.toArray();
    }

    @Override
    public String decode(int[] ids) {
        SentencePieceModel.Decoder decoder = sp.decoder();
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (isText(id)) {
                sb.append(decoder.push(id));
            }
        }
        return sb.append(decoder.flush()).toString();
    }

    @Override
    public int[] chatPrompt(List<Message> messages) {
        SentencePieceModel.IntList ids = new SentencePieceModel.IntList();
        ids.add(special("[gMASK]"));
        ids.add(special("sop"));
        for (Message m : messages) {
            if (!ROLES.contains(m.role())) {
                throw new IllegalArgumentException("ChatGLM3 has no role '" + m.role() + "'; it knows " + ROLES);
            }
            ids.add(special("<|" + m.role() + "|>"));
            ids.addAll(newline); // the empty metadata line
            ids.addAll(sp.encode(m.content()));
        }
        ids.add(special("<|assistant|>"));
        return ids.toArray();
    }

    @Override
    public Set<Integer> stopIds() {
        return stopIds;
    }

    @Override
    public String tokenText(int id) {
        if (!isText(id)) {
            return "";
        }
        if (sp.isByte(id)) {
            SentencePieceModel.Decoder decoder = sp.decoder();
            return decoder.push(id) + decoder.flush();
        }
        return sp.piece(id).replace(SentencePieceModel.SPACE, ' ');
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (!isText(id)) {
            return new byte[0];
        }
        if (sp.isByte(id)) {
            return new byte[] {(byte) SentencePieceModel.byteOf(sp.piece(id))};
        }
        return sp.piece(id).replace(SentencePieceModel.SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A reply's text as chat() returns it: the model opens each reply with its metadata line, empty for a plain answer
     * (a "\n" right after <|assistant|>); that line and the whitespace before the content are left out, as chat()'s
     * split and strip do, so that the reply and the history built from it hold the content alone.
     */
    @Override
    public StreamDecoder streamDecoder() {
        SentencePieceModel.Decoder decoder = sp.decoder();
        return new StreamDecoder() {
            private boolean opening = true;  // nothing shown yet
            private boolean metadata = true; // the metadata line may still come

            @Override
            public String push(int id) {
                return content(isText(id) ? decoder.push(id) : "");
            }

            @Override
            public String flush() {
                return content(decoder.flush());
            }

            private String content(String text) {
                if (!opening || text.isEmpty()) {
                    return text;
                }
                if (metadata) {
                    metadata = false;
                    if (!text.startsWith("\n")) {
                        opening = false; // a named metadata line (a tool call) stays in the text
                        return text;
                    }
                    text = text.substring(1);
                }
                String stripped = text.stripLeading();
                opening = stripped.isEmpty();
                return stripped;
            }
        };
    }

    // unk/pad (0), bos (1), eos (2), the special tokens and the output layer's padding ids decode to nothing.
    private boolean isText(int id) {
        return id > 2 && id < sp.size();
    }

    @Override
    public void close() {
    }
}
