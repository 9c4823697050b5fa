package io.resident.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.tokenizer.jinja.JinjaTemplate;
import io.resident.tools.ToolCall;
import io.resident.tools.ToolDefinition;
import io.resident.tools.ToolFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

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
    /** The system prompt THUDM's demos put before the tools' JSON. */
    static final String TOOLS_PROMPT = "Answer the following questions as best as you can. You have access to the following tools:";
    private static final ObjectMapper JSON = new ObjectMapper();

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

    /**
     * build_chat_input: tools in a system turn of their own ({@link #TOOLS_PROMPT}, a newline, json.dumps(indent=4)),
     * each call an assistant turn whose metadata line is the function's name and whose content is its Python code,
     * a tool's result an observation turn.
     */
    @Override
    public int[] chatPrompt(List<Message> messages, List<ToolDefinition> tools) {
        SentencePieceModel.IntList ids = new SentencePieceModel.IntList();
        ids.add(special("[gMASK]"));
        ids.add(special("sop"));
        if (!tools.isEmpty()) {
            turn(ids, "system", "", TOOLS_PROMPT + "\n" + JinjaTemplate.jsonDumps(tools.stream().map(ToolDefinition::function).toList(), 4));
        }
        for (Message m : messages) {
            String role = m.role().equals("tool") ? "observation" : m.role();
            if (!ROLES.contains(role)) {
                throw new IllegalArgumentException("ChatGLM3 has no role '" + m.role() + "'; it knows " + ROLES + " and tool");
            }
            if (m.toolCalls().isEmpty() || (m.content() != null && !m.content().isEmpty())) {
                turn(ids, role, "", m.content() == null ? "" : m.content());
            }
            for (ToolCall call : m.toolCalls()) {
                turn(ids, role, call.name(), code(call));
            }
        }
        ids.add(special("<|assistant|>"));
        return ids.toArray();
    }

    private void turn(SentencePieceModel.IntList ids, String role, String metadata, String content) {
        ids.add(special("<|" + role + "|>"));
        ids.addAll(metadata.isEmpty() ? newline : sp.encode(metadata + "\n"));
        ids.addAll(sp.encode(content));
    }

    /** A call as the model writes it after its metadata line: tool_call(k=v, ...) with Python literals, in a code block. */
    static String code(ToolCall call) {
        StringJoiner keywords = new StringJoiner(", ");
        try {
            Map<?, ?> arguments = JSON.readValue(call.arguments(), Map.class);
            arguments.forEach((k, v) -> keywords.add(k + "=" + JinjaTemplate.pythonRepr(v)));
        } catch (IOException e) {
            throw new IllegalArgumentException("the arguments of call " + call.name() + " are not a JSON object: " + call.arguments());
        }
        return "```python\ntool_call(" + keywords + ")\n```";
    }

    @Override
    public Optional<ToolFormat> toolFormat() {
        return Optional.of(ToolFormat.CHATGLM3);
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
        return isText(id) ? sp.pieceBytes(id) : null;
    }

    @Override
    public int vocabularySize() {
        return sp.size();
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
