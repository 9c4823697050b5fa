package io.resident.tools;

import io.resident.grammar.Grammar;
import io.resident.grammar.JsonSchema;

/**
 * A reply held to one call (tool_choice "required" or a named function): the family's call markup as literal text
 * around JSON arguments of the function's parameters schema, so that the call always parses and its arguments
 * always match. The output ends where the call ends.
 */
public final class ForcedCalls {

    private ForcedCalls() {}

    /** Whether calls of the format can be forced: its arguments are JSON (ChatGLM3's are Python code). */
    public static boolean forcible(ToolFormat format) {
        return format != ToolFormat.CHATGLM3;
    }

    /**
     * One call of the tool as the family writes it; names are [A-Za-z0-9_-], so they need no escaping in JSON.
     *
     * @throws io.resident.grammar.SchemaException the tool's parameters use a keyword that cannot be enforced
     */
    public static Grammar call(ToolFormat format, ToolDefinition tool) {
        Grammar arguments = Grammar.json(tool.parameters() == null ? JsonSchema.anyObject() : JsonSchema.compile(tool.parameters()));
        String name = "{\"name\": \"" + tool.name() + "\", ";
        return switch (format) {
            case TAGGED_JSON -> Grammar.sequence(Grammar.literal("<tool_call>\n" + name + "\"arguments\": "), arguments,
                    Grammar.literal("}\n</tool_call>"));
            case BARE_JSON -> Grammar.sequence(Grammar.literal(name + "\"parameters\": "), arguments, Grammar.literal("}"));
            case MISTRAL -> Grammar.sequence(Grammar.literal("[TOOL_CALLS] [" + name + "\"arguments\": "), arguments,
                    Grammar.literal("}]"));
            case CHATGLM3 -> throw new IllegalArgumentException("ChatGLM3's calls are Python code");
        };
    }
}
