package io.resident.tokenizer.jinja;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Jinja2 template as Hugging Face renders chat templates: its environment's whitespace rules (trim_blocks,
 * lstrip_blocks), loop controls, the globals raise_exception and strftime_now, and a tojson that is Python's
 * json.dumps(ensure_ascii=False). Immutable and thread-safe once parsed.
 */
public final class JinjaTemplate {

    private final List<Node> body;

    private JinjaTemplate(List<Node> body) {
        this.body = body;
    }

    /** Parses a template; a syntax error is a {@link TemplateException} naming the place. */
    public static JinjaTemplate parse(String source) {
        return new JinjaTemplate(Parser.parse(source));
    }

    /**
     * Renders with the given variables (String, Number, Boolean, null, List, Map, nested); strftime_now reads the clock.
     */
    public String render(Map<String, ?> variables, Clock clock) {
        Map<String, Object> values = new LinkedHashMap<>();
        variables.forEach((k, v) -> values.put(k, toTemplateValue(v)));
        return new Interpreter(clock).render(body, values);
    }

    /** Python's json.dumps(value, ensure_ascii=False, indent=indent) of a Java value (indent null: on one line). */
    public static String jsonDumps(Object value, Integer indent) {
        return Py.json(toTemplateValue(value), indent, false);
    }

    /** Python's repr of a Java value. */
    public static String pythonRepr(Object value) {
        return Py.repr(toTemplateValue(value));
    }

    /** Java values as the interpreter's Python-like values: Long for integers, Double for other numbers. */
    private static Object toTemplateValue(Object v) {
        return switch (v) {
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Byte b -> b.longValue();
            case Float f -> f.doubleValue();
            case Map<?, ?> m -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                m.forEach((k, x) -> copy.put(String.valueOf(k), toTemplateValue(x)));
                yield copy;
            }
            case List<?> l -> {
                List<Object> copy = new ArrayList<>();
                l.forEach(x -> copy.add(toTemplateValue(x)));
                yield copy;
            }
            case null, default -> v;
        };
    }
}
