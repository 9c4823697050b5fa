package io.resident.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.resident.tokenizer.jinja.JinjaTemplate;
import io.resident.tokenizer.jinja.TemplateException;
import java.io.ByteArrayInputStream;
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

    private HfTokenizer(HuggingFaceTokenizer withSpecials, HuggingFaceTokenizer plain, JinjaTemplate template,
                        Map<String, Object> specialTokenTexts, Set<Integer> specialIds, Set<Integer> stopIds) {
        this.withSpecials = withSpecials;
        this.plain = plain;
        this.template = template;
        this.specialTokenTexts = specialTokenTexts;
        this.specialIds = specialIds;
        this.stopIds = stopIds;
    }

    static HfTokenizer load(Path dir, Set<Integer> configEosIds) {
        Path file = dir.resolve("tokenizer.json");
        JsonNode tokenizerJson = Tokenizers.readJson(file, true);
        JsonNode config = Tokenizers.readJson(dir.resolve("tokenizer_config.json"), false);
        JinjaTemplate template = chatTemplate(dir, config);

        Map<String, Integer> addedIds = new HashMap<>();
        Set<Integer> specialIds = new HashSet<>();
        ArrayNode nonSpecial = JSON.createArrayNode();
        for (JsonNode t : tokenizerJson.path("added_tokens")) {
            addedIds.put(t.path("content").asText(), t.path("id").asInt());
            if (t.path("special").asBoolean()) {
                specialIds.add(t.path("id").asInt());
            } else {
                nonSpecial.add(t);
            }
        }
        // The same tokenizer without its special added tokens turns "<|im_end|>" typed by a user into plain text,
        // as HF's split_special_tokens=True does.
        ObjectNode plainJson = tokenizerJson.deepCopy();
        plainJson.set("added_tokens", nonSpecial);

        Map<String, Object> specialTokenTexts = new LinkedHashMap<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            JsonNode v = config.path(key);
            String text = v.isTextual() ? v.asText() : v.path("content").isTextual() ? v.path("content").asText() : null;
            if (text != null) {
                specialTokenTexts.put(key, text);
            }
        }
        Set<Integer> stops = new LinkedHashSet<>(configEosIds);
        if (specialTokenTexts.get("eos_token") instanceof String eos && addedIds.containsKey(eos)) {
            stops.add(addedIds.get(eos));
        }
        END_OF_TURN.stream().filter(addedIds::containsKey).forEach(t -> stops.add(addedIds.get(t)));
        if (stops.isEmpty()) {
            throw new TokenizerLoadException(dir + " names no eos token (config.json, generation_config.json or tokenizer_config.json)");
        }
        return new HfTokenizer(djl(tokenizerJson, file), djl(plainJson, file), template, specialTokenTexts,
                Set.copyOf(specialIds), Set.copyOf(stops));
    }

    private static HuggingFaceTokenizer djl(JsonNode json, Path file) {
        try {
            byte[] bytes = JSON.writeValueAsBytes(json);
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), OPTIONS);
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

    @Override
    public String decode(int[] ids) {
        return withSpecials.decode(toLongs(ids), true);
    }

    /**
     * Renders the chat template as transformers' apply_chat_template does (add_generation_prompt=True, tools and
     * documents None, the special tokens' texts) and tokenizes the result with special tokens recognized, so the ids
     * equal HF's. As in HF, special-token text inside a message is then a special token too: callers that take
     * untrusted text and want it kept plain must screen it before it reaches the prompt.
     */
    @Override
    public int[] chatPrompt(List<Message> messages) {
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
        String prompt;
        try {
            prompt = template.render(vars, Clock.systemDefaultZone());
        } catch (TemplateException e) {
            throw new IllegalArgumentException("chat template rejected the conversation: " + e.getMessage(), e);
        }
        return toInts(withSpecials.encode(prompt, false, false).getIds());
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
