package io.resident.tools;

import io.resident.grammar.Grammar;
import io.resident.grammar.JsonSchema;

/**
 * A reply held to one call (tool_choice "required" or a named function): the family's call markup as literal text
 * around arguments of the function's parameters schema (JSON, or ChatGLM3's Python keyword arguments), so that the
 * call always parses and its arguments always match. The output ends where the call ends.
 */
public final class ForcedCalls {

    private ForcedCalls() {}

    /**
     * One call of the tool as the family writes it; names are [A-Za-z0-9_-], so they need no escaping in JSON.
     *
     * @throws io.resident.grammar.SchemaException the tool's parameters use a keyword that cannot be enforced
     */
    public static Grammar call(ToolFormat format, ToolDefinition tool) {
        String name = "{\"name\": \"" + tool.name() + "\", ";
        return switch (format) {
            case TAGGED_JSON -> Grammar.sequence(Grammar.literal("<tool_call>\n" + name + "\"arguments\": "), json(tool),
                    Grammar.literal("}\n</tool_call>"));
            case BARE_JSON -> Grammar.sequence(Grammar.literal(name + "\"parameters\": "), json(tool), Grammar.literal("}"));
            case MISTRAL -> Grammar.sequence(Grammar.literal("[TOOL_CALLS] [" + name + "\"arguments\": "), json(tool),
                    Grammar.literal("}]"));
            // the metadata line names the tool, then the call as Python code
            case CHATGLM3 -> Grammar.sequence(Grammar.literal(tool.name() + "\n```python\ntool_call("),
                    tool.parameters() == null ? Grammar.literal("") : Grammar.keywordArguments(JsonSchema.compilePython(tool.parameters())),
                    Grammar.literal(")\n```"));
        };
    }

    private static Grammar json(ToolDefinition tool) {
        return Grammar.json(tool.parameters() == null ? JsonSchema.anyObject() : JsonSchema.compile(tool.parameters()));
    }
}
