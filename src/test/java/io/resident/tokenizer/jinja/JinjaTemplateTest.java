package io.resident.tokenizer.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Templates rendered by Python's jinja2 inside transformers' apply_chat_template, rendered again here. */
class JinjaTemplateTest {

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> rendersLikeTransformers() throws IOException {
        Map<String, Object> refs;
        try (InputStream in = JinjaTemplateTest.class.getResourceAsStream("/io/resident/tokenizer/hf-references.json")) {
            refs = new ObjectMapper().readValue(in, new TypeReference<>() {});
        }
        Map<String, Object> extra = (Map<String, Object>) refs.get("extra_templates");
        // strftime_now reads this clock: the references were rendered at rendered_at
        Clock clock = Clock.fixed(LocalDateTime.parse((String) refs.get("rendered_at")).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        Map<String, Object> specialTokens = (Map<String, Object>) extra.get("special_tokens");
        return ((List<Map<String, Object>>) extra.get("templates")).stream().flatMap(t -> {
            JinjaTemplate template = JinjaTemplate.parse((String) t.get("template"));
            List<Map<String, Object>> cases = (List<Map<String, Object>>) t.get("cases");
            return cases.stream().map(c -> DynamicTest.dynamicTest(t.get("name") + " #" + cases.indexOf(c), () -> {
                Map<String, Object> vars = new HashMap<>(specialTokens);
                vars.put("messages", c.get("messages"));
                vars.put("tools", c.get("tools"));
                vars.put("documents", null);
                vars.put("add_generation_prompt", true);
                if (c.containsKey("error")) {
                    TemplateException e = assertThrows(TemplateException.class, () -> template.render(vars, clock));
                    assertEquals(c.get("error"), e.getMessage());
                } else {
                    assertEquals(c.get("prompt"), template.render(vars, clock));
                }
            }));
        }).toList();
    }

    @Test
    void syntaxErrorsNameTheProblem() {
        TemplateException e = assertThrows(TemplateException.class, () -> JinjaTemplate.parse("{% for x in y %}{{ x }}"));
        assertEquals("template syntax: missing {% else / endfor %} (at offset 23)", e.getMessage());
        assertThrows(TemplateException.class, () -> JinjaTemplate.parse("{% macro m() %}{% endmacro %}"));
    }

    @Test
    void attributeOfUndefinedFailsLikeJinja() {
        JinjaTemplate t = JinjaTemplate.parse("{{ missing.attr }}");
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(Map.of(), Clock.systemUTC()));
        assertEquals("'missing' is undefined", e.getMessage());
    }
}
