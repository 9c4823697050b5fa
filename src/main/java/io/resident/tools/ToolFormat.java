package io.resident.tools;

/** How a family's chat format writes a tool call into the assistant's reply. */
public enum ToolFormat {
    /** Qwen2.5 / Qwen3 (Hermes style): {@code <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>}, one block per call. */
    TAGGED_JSON,
    /** Llama 3.1: the whole reply is {@code {"name": ..., "parameters": {...}}}, after {@code <|python_tag|>} or not. */
    BARE_JSON,
    /** Mistral: {@code [TOOL_CALLS]} then a JSON array of {@code {"name": ..., "arguments": {...}}}. */
    MISTRAL,
    /** ChatGLM3: the function's name as the reply's metadata line, then {@code ```python\ntool_call(k=v, ...)\n```}. */
    CHATGLM3
}
