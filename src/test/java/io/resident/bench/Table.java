package io.resident.bench;

import java.util.Map;

/** A benchmark report as Markdown tables, ready for docs/benchmarks.md. */
final class Table {

    private Table() {}

    @SuppressWarnings("unchecked")
    static String of(Map<String, Object> report) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%s on %s, %s, %,d parameters, %d at once, %d KV-cache blocks of 16, context %d,"
                        + " prefill chunk %s, step budget %s tokens%n", report.get("model"), report.get("device"), report.get("dtype"),
                report.get("parameters"), report.get("slots"), report.get("kv_blocks"), report.get("context"),
                report.get("prefill_chunk"), report.get("max_step_tokens")));
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
        out.append("\nthe engine thread, by concurrent streams (ms a step and share of the run):\n");
        ((Map<String, Map<String, Object>>) report.get("streams")).forEach((n, row) -> out.append(String.format("- %s: %s%n", n,
                EngineSplit.describe((Map<String, Object>) row.get("engine_thread")))));
        if (report.containsKey("constrained_streams")) {
            out.append("\n| concurrent streams | free ms a step | constrained ms a step | step overhead | free ms/token"
                    + " | constrained ms/token | constrained tokens a round |\n| --- | --- | --- | --- | --- | --- | --- |\n");
            ((Map<String, Map<String, Object>>) report.get("constrained_streams")).forEach((n, row) ->
                    out.append(String.format("| %s | %s | %s | %s%% | %s | %s | %s |%n", n, row.get("free_busy_ms_per_step"),
                            row.get("constrained_busy_ms_per_step"), row.get("step_overhead_pct"), row.get("free_ms_per_token"),
                            row.get("constrained_ms_per_token"), row.get("constrained_tokens_per_round"))));
        }
        if (report.get("interference") instanceof Map<?, ?> interference) {
            interference(out, (Map<String, Object>) interference);
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

    @SuppressWarnings("unchecked")
    private static void interference(StringBuilder out, Map<String, Object> interference) {
        Map<String, Object> plain = (Map<String, Object>) interference.get("plain");
        Map<String, Object> during = (Map<String, Object>) interference.get("during_prefill");
        out.append(String.format("%n%s decoding streams while %s prompts of %s tokens arrive at once and prefill:%n%n",
                interference.get("decoding_streams"), interference.get("arriving_prompts"), interference.get("arriving_prompt_tokens")));
        out.append("| window | ms | gaps | ITL ms p50 / p90 / p99 / max |\n| --- | --- | --- | --- |\n");
        window(out, "plain decode", plain);
        window(out, "during the prefill", during);
        Map<String, Object> ttft = (Map<String, Object>) during.get("arrivals_ttft_ms");
        StringBuilder ratio = new StringBuilder();
        ((Map<String, Object>) interference.get("itl_ratio")).forEach((key, value) ->
                ratio.append(ratio.isEmpty() ? "" : ", ").append(key).append(' ').append(value).append('x'));
        out.append(String.format("%nITL during / plain: %s; the prompts' first tokens after %s ms (p50), %s ms (max); %s of %s"
                        + " decoding streams still decoding when the last came%n", ratio, ttft.get("p50"),
                ttft.get("max"), during.get("decoding_streams_cancelled"), interference.get("decoding_streams")));
        out.append(String.format("the engine thread, plain: %s%nthe engine thread, during the prefill: %s%n",
                EngineSplit.describe((Map<String, Object>) plain.get("engine_thread")),
                EngineSplit.describe((Map<String, Object>) during.get("engine_thread"))));
    }

    @SuppressWarnings("unchecked")
    private static void window(StringBuilder out, String name, Map<String, Object> window) {
        Map<String, Object> itl = (Map<String, Object>) window.get("itl_ms");
        out.append(String.format("| %s | %s | %s | %s / %s / %s / %s |%n", name, window.get("window_ms"), window.get("gaps"),
                itl.get("p50"), itl.get("p90"), itl.get("p99"), itl.get("max")));
    }
}
