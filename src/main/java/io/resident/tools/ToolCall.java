package io.resident.tools;

/**
 * One call of a function, as OpenAI's API carries it.
 *
 * @param id        the call's id, which the tool's result refers to (null where a format has none)
 * @param name      the function's name
 * @param arguments a JSON object as text
 */
public record ToolCall(String id, String name, String arguments) {}
