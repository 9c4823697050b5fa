package io.resident.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.api.ApiException;
import io.resident.grammar.Grammar;
import io.resident.grammar.SchemaException;
import io.resident.tools.ForcedCalls;
import io.resident.tools.ToolDefinition;
import io.resident.tools.ToolFormat;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A chat request's functions and what the model may do with them: tools and tool_choice, or the legacy functions and
 * function_call mapped onto them (the answer then names its call function_call, as OpenAI's legacy API does).
 *
 * @param tools    the functions, in the request's order
 * @param choice   auto, none, required, or one named function
 * @param named    the function tool_choice names (null otherwise)
 * @param parallel whether one reply may call several functions
 * @param legacy   whether the request used functions / function_call
 */
record ToolUse(List<ToolDefinition> tools, Choice choice, String named, boolean parallel, boolean legacy) {

    enum Choice { AUTO, NONE, REQUIRED, NAMED }

    /** OpenAI's rule for function names. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private static final int CACHED_GRAMMARS = 64;
    /** Forced calls' grammars by format and functions, so that repeated requests share their cached token masks. */
    private static final Map<String, Grammar> FORCED = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > CACHED_GRAMMARS;
        }
    });

    /**
     * The grammar that holds the reply to one call of the named function or, for "required", of any of the tools; null
     * when the model is free. A parameters schema that cannot be enforced is a 400 naming it, never loosened.
     */
    Grammar forcedCall(ToolFormat format) {
        if (choice != Choice.REQUIRED && choice != Choice.NAMED) {
            return null;
        }
        StringBuilder key = new StringBuilder(format.name());
        tools.stream().filter(t -> choice == Choice.REQUIRED || t.name().equals(named))
                .forEach(t -> key.append('\n').append(t.name()).append(' ').append(t.parameters()));
        Grammar cached = FORCED.get(key.toString());
        if (cached != null) {
            return cached;
        }
        Grammar grammar = compileForcedCall(format);
        FORCED.put(key.toString(), grammar);
        return grammar;
    }

    private Grammar compileForcedCall(ToolFormat format) {
        List<Grammar> calls = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            ToolDefinition tool = tools.get(i);
            if (choice == Choice.NAMED && !tool.name().equals(named)) {
                continue;
            }
            try {
                calls.add(ForcedCalls.call(format, tool));
            } catch (SchemaException e) {
                String param = (legacy ? "functions[" + i + "]" : "tools[" + i + "].function") + ".parameters";
                throw ApiException.invalid(param, "'" + param + "' cannot be enforced while the call is forced: "
                        + e.getMessage() + " (at '" + e.pointer() + "')");
            }
        }
        return Grammar.choice(calls);
    }

    /** Whether the model is shown the tools and its reply read for calls. */
    boolean active() {
        return !tools.isEmpty() && choice != Choice.NONE;
    }

    static ToolUse of(ChatRequest request) {
        boolean legacy = Sampling.present(request.functions()) || Sampling.present(request.functionCall());
        if (legacy && (Sampling.present(request.tools()) || Sampling.present(request.toolChoice()))) {
            throw ApiException.invalid("functions", "'functions' and 'function_call' are the legacy form of 'tools' and "
                    + "'tool_choice': send one form, not both");
        }
        List<ToolDefinition> tools = legacy ? functions(request.functions(), "functions", false)
                : functions(request.tools(), "tools", true);
        String choiceParam = legacy ? "function_call" : "tool_choice";
        JsonNode choiceNode = legacy ? request.functionCall() : request.toolChoice();
        boolean parallel = legacy ? false : !Boolean.FALSE.equals(request.parallelToolCalls());
        if (!Sampling.present(choiceNode)) {
            return new ToolUse(tools, tools.isEmpty() ? Choice.NONE : Choice.AUTO, null, parallel, legacy);
        }
        if (choiceNode.isTextual()) {
            Choice choice = switch (choiceNode.asText()) {
                case "auto" -> Choice.AUTO;
                case "none" -> Choice.NONE;
                case "required" -> legacy ? null : Choice.REQUIRED;
                default -> null;
            };
            if (choice == null) {
                throw ApiException.invalid(choiceParam, "'" + choiceParam + "' is '" + choiceNode.asText() + "'; it must be "
                        + (legacy ? "\"auto\", \"none\" or {\"name\": ...}" : "\"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}"));
            }
            if (choice == Choice.REQUIRED && tools.isEmpty()) {
                throw ApiException.invalid(choiceParam, "'" + choiceParam + "' is \"required\" but the request has no 'tools'");
            }
            return new ToolUse(tools, tools.isEmpty() ? Choice.NONE : choice, null, parallel, legacy);
        }
        JsonNode name = legacy ? choiceNode.path("name") : choiceNode.path("function").path("name");
        if (!choiceNode.isObject() || !name.isTextual() || (!legacy && !choiceNode.path("type").asText("function").equals("function"))) {
            throw ApiException.invalid(choiceParam, "'" + choiceParam + "' must be a string or "
                    + (legacy ? "{\"name\": ...}" : "{\"type\": \"function\", \"function\": {\"name\": ...}}"));
        }
        if (tools.stream().noneMatch(t -> t.name().equals(name.asText()))) {
            throw ApiException.invalid(choiceParam, "'" + choiceParam + "' names the function '" + name.asText()
                    + "', which is not among the request's " + (legacy ? "'functions'" : "'tools'"));
        }
        return new ToolUse(tools, Choice.NAMED, name.asText(), parallel, legacy);
    }

    /** tools ([{"type": "function", "function": {...}}]) or legacy functions ([{...}]), checked field by field. */
    private static List<ToolDefinition> functions(JsonNode node, String param, boolean wrapped) {
        if (!Sampling.present(node)) {
            return List.of();
        }
        if (!node.isArray()) {
            throw ApiException.invalid(param, "'" + param + "' must be an array of " + (wrapped ? "tools" : "functions"));
        }
        List<ToolDefinition> tools = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String at = param + "[" + i + "]";
            if (wrapped) {
                if (!item.isObject()) {
                    throw ApiException.invalid(at, "'" + at + "' must be {\"type\": \"function\", \"function\": {...}}");
                }
                if (!item.path("type").asText().equals("function")) {
                    throw ApiException.invalid(at + ".type", "'" + at + ".type' is " + item.path("type")
                            + "; this service supports tools of type \"function\" only");
                }
                item = item.path("function");
                at = at + ".function";
            }
            ToolDefinition tool = function(item, at);
            if (!names.add(tool.name())) {
                throw ApiException.invalid(at + ".name", "'" + at + ".name' is '" + tool.name() + "', which an earlier tool has already");
            }
            tools.add(tool);
        }
        return tools;
    }

    private static ToolDefinition function(JsonNode f, String at) {
        if (!f.isObject()) {
            throw ApiException.invalid(at, "'" + at + "' must be an object with name, description and parameters");
        }
        JsonNode name = f.path("name");
        if (!name.isTextual() || !NAME.matcher(name.asText()).matches()) {
            throw ApiException.invalid(at + ".name", "'" + at + ".name' must be 1 to 64 letters, digits, '_' or '-'"
                    + (name.isMissingNode() ? ", and is missing" : ", not " + name));
        }
        JsonNode description = f.get("description");
        if (description != null && !description.isNull() && !description.isTextual()) {
            throw ApiException.invalid(at + ".description", "'" + at + ".description' must be a string");
        }
        JsonNode parameters = f.get("parameters");
        if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
            throw ApiException.invalid(at + ".parameters", "'" + at + ".parameters' must be a JSON schema object");
        }
        JsonNode strict = f.get("strict");
        if (strict != null && !strict.isNull() && !strict.isBoolean()) {
            throw ApiException.invalid(at + ".strict", "'" + at + ".strict' must be a boolean");
        }
        return new ToolDefinition(name.asText(), description == null || description.isNull() ? null : description.asText(),
                parameters == null || parameters.isNull() ? null : parameters, strict != null && strict.asBoolean());
    }
}
