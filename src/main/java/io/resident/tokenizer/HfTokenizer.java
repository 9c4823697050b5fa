package io.resident.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.resident.tokenizer.jinja.JinjaTemplate;
import io.resident.tokenizer.jinja.TemplateException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face tokenizer.json (through DJL's binding of the Rust tokenizers library) with the chat template of
 * tokenizer_config.json. Decoding is the tokenizer.json decoder alone: transformers' clean_up_tokenization_spaces
 * is not applied, as it rewrites model output (" ." to ".") and cannot be streamed.
 */
final class HfTokenizer implements Tokenizer {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> OPTIONS = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
    /** End-of-turn tokens of the families served (Qwen, Llama 3), stop ids wherever the vocabulary has them. */
    private static final List<String> END_OF_TURN = List.of("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|eom_id|>");

    private final HuggingFaceTokenizer withSpecials;
    private final HuggingFaceTokenizer plain;
    private final JinjaTemplate template;
    private final Map<String, Object> specialTokenTexts;
    private final Set<Integer> specialIds;
    private final Set<Integer> stopIds;
    private final TokenBytes tokenBytes;

    private HfTokenizer(HuggingFaceTokenizer withSpecials, HuggingFaceTokenizer plain, JinjaTemplate template,
                        Map<String, Object> specialTokenTexts, Set<Integer> specialIds, Set<Integer> stopIds,
                        TokenBytes tokenBytes) {
        this.withSpecials = withSpecials;
        this.plain = plain;
        this.template = template;
        this.specialTokenTexts = specialTokenTexts;
        this.specialIds = specialIds;
        this.stopIds = stopIds;
        this.tokenBytes = tokenBytes;
    }

    static HfTokenizer load(Path dir, Set<Integer> configEosIds) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new TokenizerLoadException("missing " + file);
        }
        JsonNode config = Tokenizers.readJson(dir.resolve("tokenizer_config.json"), false);
        JinjaTemplate template = chatTemplate(dir, config);
        AddedTokens added = AddedTokens.read(file);

        Map<String, Object> specialTokenTexts = new LinkedHashMap<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            JsonNode v = config.path(key);
            String text = v.isTextual() ? v.asText() : v.path("content").isTextual() ? v.path("content").asText() : null;
            if (text != null) {
                specialTokenTexts.put(key, text);
            }
        }
        Set<Integer> stops = new LinkedHashSet<>(configEosIds);
        if (specialTokenTexts.get("eos_token") instanceof String eos && added.ids.containsKey(eos)) {
            stops.add(added.ids.get(eos));
        }
        END_OF_TURN.stream().filter(added.ids::containsKey).forEach(t -> stops.add(added.ids.get(t)));
        if (stops.isEmpty()) {
            throw new TokenizerLoadException(dir + " names no eos token (config.json, generation_config.json or tokenizer_config.json)");
        }
        return new HfTokenizer(djl(added.json, file), djl(added.withoutSpecials(file), file), template, specialTokenTexts,
                Set.copyOf(added.specialIds), Set.copyOf(stops), added.tokenBytes());
    }

    /** tokenizer.json's added tokens and where its added_tokens and model.vocab sit, read without a tree of the vocabulary. */
    private record AddedTokens(byte[] json, int arrayStart, int arrayEnd, int vocabOpen, ArrayNode tokens,
                               Map<String, Integer> ids, Set<Integer> specialIds, Map<Integer, String> vocab, boolean byteLevel) {

        static AddedTokens read(Path file) {
            try {
                byte[] json = Files.readAllBytes(file);
                int arrayStart = -1, arrayEnd = -1, vocabOpen = -1;
                ArrayNode tokens = JSON.createArrayNode();
                Map<Integer, String> vocab = new HashMap<>();
                boolean byteLevel = false;
                try (JsonParser p = JSON.getFactory().createParser(json)) {
                    if (p.nextToken() != JsonToken.START_OBJECT) {
                        throw new TokenizerLoadException(file + " is not a JSON object");
                    }
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        JsonToken value = p.nextToken();
                        if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
                            arrayStart = (int) p.currentTokenLocation().getByteOffset();
                            tokens = JSON.readTree(p);
                            arrayEnd = (int) p.currentTokenLocation().getByteOffset() + 1;
                        } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                boolean isVocab = p.currentName().equals("vocab");
                                if (p.nextToken() == JsonToken.START_OBJECT && isVocab) {
                                    vocabOpen = (int) p.currentTokenLocation().getByteOffset();
                                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                                        String piece = p.currentName();
                                        p.nextToken();
                                        vocab.put(p.getIntValue(), piece);
                                    }
                                } else {
                                    p.skipChildren();
                                }
                            }
                        } else if (field.equals("decoder") && value == JsonToken.START_OBJECT) {
                            byteLevel = JSON.readTree(p).toString().contains("\"ByteLevel\"");
                        } else {
                            p.skipChildren();
                        }
                    }
                }
                if (vocabOpen < 0) {
                    throw new TokenizerLoadException(file + ": model.vocab is not a token-to-id map (BPE, WordPiece or WordLevel), which plain-text encoding needs");
                }
                Map<String, Integer> ids = new HashMap<>();
                Set<Integer> specialIds = new HashSet<>();
                for (JsonNode t : tokens) {
                    ids.put(t.path("content").asText(), t.path("id").asInt());
                    if (t.path("special").asBoolean()) {
                        specialIds.add(t.path("id").asInt());
                    }
                }
                return new AddedTokens(json, arrayStart, arrayEnd, vocabOpen, tokens, ids, specialIds, vocab, byteLevel);
            } catch (IOException e) {
                throw new TokenizerLoadException("cannot parse " + file + ": " + e.getMessage(), e);
            }
        }

        /** Each token's raw bytes: the vocabulary's pieces decoded as the decoder does, added tokens as their text. */
        TokenBytes tokenBytes() {
            Map<Integer, byte[]> bytes = new HashMap<>(vocab.size() + tokens.size());
            vocab.forEach((id, piece) -> bytes.put(id, TokenBytes.ofPiece(piece, byteLevel)));
            for (JsonNode t : tokens) {
                int id = t.path("id").asInt();
                bytes.put(id, specialIds.contains(id) ? new byte[0] : t.path("content").asText().getBytes(StandardCharsets.UTF_8));
            }
            return new TokenBytes(bytes);
        }

        /**
         * The same tokenizer with its special tokens moved from added_tokens into the model's vocabulary: they keep
         * their ids (the tokenizers library numbers added tokens missing from the vocabulary itself) but are no
         * longer matched in text, so "<|im_end|>" typed by a user stays plain text, as HF's split_special_tokens=True.
         */
        byte[] withoutSpecials(Path file) {
            if (specialIds.isEmpty()) {
                return json;
            }
            ArrayNode kept = JSON.createArrayNode();
            StringBuilder vocabEntries = new StringBuilder();
            try {
                for (JsonNode t : tokens) {
                    if (t.path("special").asBoolean()) {
                        vocabEntries.append(JSON.writeValueAsString(t.path("content").asText())).append(':').append(t.path("id").asInt()).append(',');
                    } else {
                        kept.add(t);
                    }
                }
                // the vocabulary's first entry follows; a later duplicate key would win, so existing entries are kept
                boolean emptyVocab = new String(json, vocabOpen + 1, Math.min(64, json.length - vocabOpen - 1), StandardCharsets.UTF_8).strip().startsWith("}");
                if (emptyVocab) {
                    vocabEntries.setLength(vocabEntries.length() - 1);
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream(json.length + vocabEntries.length());
                byte[] keptBytes = JSON.writeValueAsBytes(kept);
                byte[] entries = vocabEntries.toString().getBytes(StandardCharsets.UTF_8);
                if (arrayStart < vocabOpen) {
                    out.write(json, 0, arrayStart);
                    out.writeBytes(keptBytes);
                    out.write(json, arrayEnd, vocabOpen + 1 - arrayEnd);
                    out.writeBytes(entries);
                    out.write(json, vocabOpen + 1, json.length - vocabOpen - 1);
                } else {
                    out.write(json, 0, vocabOpen + 1);
                    out.writeBytes(entries);
                    out.write(json, vocabOpen + 1, arrayStart - vocabOpen - 1);
                    out.writeBytes(keptBytes);
                    out.write(json, arrayEnd, json.length - arrayEnd);
                }
                return out.toByteArray();
            } catch (IOException e) {
                throw new TokenizerLoadException("cannot rewrite " + file + ": " + e.getMessage(), e);
            }
        }
    }

    private static HuggingFaceTokenizer djl(byte[] json, Path file) {
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), OPTIONS);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerLoadException("cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    /** chat_template.jinja if present (the newer layout), else tokenizer_config.json's chat_template (a string or named list). */
    private static JinjaTemplate chatTemplate(Path dir, JsonNode config) {
        Path jinja = dir.resolve("chat_template.jinja");
        String source;
        try {
            if (Files.isRegularFile(jinja)) {
                source = Files.readString(jinja, StandardCharsets.UTF_8);
            } else {
                JsonNode t = config.path("chat_template");
                if (t.isArray()) {
                    JsonNode chosen = t.get(0);
                    for (JsonNode named : t) {
                        if ("default".equals(named.path("name").asText())) {
                            chosen = named;
                        }
                    }
                    t = chosen == null ? t : chosen.path("template");
                }
                if (!t.isTextual()) {
                    throw new TokenizerLoadException(dir + " has no chat template (chat_template.jinja or tokenizer_config.json chat_template)");
                }
                source = t.asText();
            }
            return JinjaTemplate.parse(source);
        } catch (IOException e) {
            throw new TokenizerLoadException("cannot read " + jinja + ": " + e.getMessage(), e);
        } catch (TemplateException e) {
            throw new TokenizerLoadException(dir + ": chat template not usable: " + e.getMessage(), e);
        }
    }

    @Override
    public int[] encode(String text) {
        return toInts(plain.encode(text, false, false).getIds());
    }

    /** With the post-processor's special tokens, and special-token text recognized, as HF's tokenizer(text) does. */
    @Override
    public int[] completionPrompt(String text) {
        return toInts(withSpecials.encode(text, true, false).getIds());
    }

    @Override
    public String decode(int[] ids) {
        return withSpecials.decode(toLongs(ids), true);
    }

    /**
     * Tokenizes the rendered chat template with special tokens recognized, as apply_chat_template(tokenize=True)
     * does, so the ids equal HF's. As in HF, special-token text inside a message then becomes a special token too:
     * callers that pass untrusted text and want it kept plain must screen it before it reaches the prompt.
     */
    @Override
    public int[] chatPrompt(List<Message> messages) {
        return toInts(withSpecials.encode(renderChat(messages), false, false).getIds());
    }

    /** The chat template rendered as apply_chat_template renders it: add_generation_prompt, no tools or documents. */
    String renderChat(List<Message> messages) {
        List<Map<String, Object>> turns = new ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> turn = new LinkedHashMap<>();
            turn.put("role", m.role());
            turn.put("content", m.content());
            turns.add(turn);
        }
        Map<String, Object> vars = new HashMap<>(specialTokenTexts);
        vars.put("messages", turns);
        vars.put("add_generation_prompt", true);
        vars.put("tools", null);
        vars.put("documents", null);
        try {
            return template.render(vars, Clock.systemDefaultZone());
        } catch (TemplateException e) {
            throw new IllegalArgumentException("chat template rejected the conversation: " + e.getMessage(), e);
        }
    }

    @Override
    public Set<Integer> stopIds() {
        return stopIds;
    }

    @Override
    public String tokenText(int id) {
        return specialIds.contains(id) ? "" : withSpecials.decode(new long[] {id}, false);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return tokenBytes.of(id);
    }

    @Override
    public StreamDecoder streamDecoder() {
        return new WindowStreamDecoder(this::decode);
    }

    @Override
    public void close() {
        withSpecials.close();
        plain.close();
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    private static long[] toLongs(int[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = ids[i];
        }
        return out;
    }
}
