package io.resident.bench;

import java.util.Map;

/** A benchmark report as Markdown tables, ready for docs/benchmarks.md. */
final class Table {

    private Table() {}

    @SuppressWarnings("unchecked")
    static String of(Map<String, Object> report) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%s on %s, %s, %,d parameters, %d at once, %d KV-cache blocks of 16, context %d,"
                        + " prefill chunk %s%n", report.get("model"), report.get("device"), report.get("dtype"),
                report.get("parameters"), report.get("slots"), report.get("kv_blocks"), report.get("context"),
                report.get("prefill_chunk")));
        out.append(String.format("load to ready (in-process, warm-up included): %s s; peak device memory: %.2f GiB;"
                + " one small native op: %s us%n%n", report.get("load_to_ready_s"),
                ((Number) report.get("peak_device_memory_bytes")).longValue() / (double) (1L << 30), report.get("native_op_us")));
        out.append("| prompt tokens | time to first token, ms | prefill tokens/s |\n| --- | --- | --- |\n");
        ((Map<String, Map<String, Object>>) report.get("time_to_first_token_ms")).forEach((length, row) ->
                out.append(String.format("| %s | %s | %s |%n", length, row.get("ms"), row.get("prefill_tokens_per_s"))));
        out.append("\n| decode batch | ms per step | tokens/s |\n| --- | --- | --- |\n");
        ((Map<String, Map<String, Object>>) report.get("decode_ms_per_step")).forEach((batch, row) ->
                out.append(String.format("| %s | %s | %s |%n", batch, row.get("ms"), row.get("tokens_per_s"))));
        out.append("\n| concurrent streams | aggregate tokens/s | per-stream ms/token (median) | TTFT ms (median) |\n"
                + "| --- | --- | --- | --- |\n");
        ((Map<String, Map<String, Object>>) report.get("streams")).forEach((n, row) ->
                out.append(String.format("| %s | %s | %s | %s |%n", n, row.get("tokens_per_s"), row.get("ms_per_token_median"),
                        row.get("time_to_first_token_ms_median"))));
        if (report.containsKey("constrained_streams")) {
            out.append("\n| concurrent streams | free ms/token | constrained ms/token | overhead | constrained tokens a round |\n"
                    + "| --- | --- | --- | --- | --- |\n");
            ((Map<String, Map<String, Object>>) report.get("constrained_streams")).forEach((n, row) ->
                    out.append(String.format("| %s | %s | %s | %s%% | %s |%n", n, row.get("free_ms_per_token"),
                            row.get("constrained_ms_per_token"), row.get("overhead_pct"), row.get("constrained_tokens_per_round"))));
        }
        Map<String, Object> longPrompt = (Map<String, Object>) report.get("prompt_as_long_as_the_context");
        out.append(String.format("%na prompt of %s tokens (the context less one): first token after %s ms; one token more: %s;"
                + " the engine after: %s%n", longPrompt.get("tokens"), longPrompt.get("time_to_first_token_ms"),
                longPrompt.get("one_more_token"), longPrompt.get("engine_after")));
        if (report.get("chat") instanceof Map<?, ?> chat) {
            out.append("\n| chat | TTFT ms by turn | last prompt tokens | of them cached | last / first |\n| --- | --- | --- | --- | --- |\n");
            ((Map<String, Map<String, Object>>) chat).forEach((cache, row) -> out.append(String.format("| %s | %s | %s | %s | %s |%n",
                    cache, row.get("ttft_ms_by_turn"), row.get("last_prompt_tokens"), row.get("last_cached_tokens"),
                    row.get("last_over_first"))));
        }
        if (report.get("pooled_chats") instanceof Map<?, ?> pooled) {
            out.append(String.format("%n%s chats (%s prompt tokens) in a pool of %s positions: %s replies completed, %s tokens/s,"
                            + " %s preemptions, peak block use %s%n", pooled.get("chats"), pooled.get("prompt_tokens"),
                    pooled.get("pool_positions"), pooled.get("replies_completed"), pooled.get("tokens_per_s"),
                    pooled.get("preemptions"), pooled.get("peak_block_use")));
        }
        return out.toString();
    }
}
