package io.resident.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.DoubleStream;

/** The figures of one load level, from its replies' timestamps, as vLLM's serving benchmark reports them. */
final class LoadStats {

    /** The percentiles reported for every latency. */
    static final double[] PERCENTILES = {50, 90, 99};

    private LoadStats() {}

    /** The p-th percentile of the values, linearly interpolated between the nearest ranks (numpy's default); NaN for none. */
    static double percentile(double[] values, double p) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double rank = p / 100 * (sorted.length - 1);
        int below = (int) Math.floor(rank);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }

    /**
     * @param startNanos when the level's first request was sent
     * @param endNanos   when its last reply ended
     * @return completed and failed requests, output tokens and tokens/s over the level's duration, and the mean and
     *         percentiles of time to first token, inter-token latency, time per output token and request latency (ms)
     */
    static Map<String, Object> summarize(List<StreamedReply> replies, long startNanos, long endNanos) {
        List<StreamedReply> ok = replies.stream().filter(r -> !r.failed()).toList();
        double seconds = (endNanos - startNanos) / 1e9;
        long outputTokens = ok.stream().mapToLong(StreamedReply::outputTokens).sum();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("requests", replies.size());
        out.put("completed", ok.size());
        out.put("failed", replies.size() - ok.size());
        out.put("duration_s", round(seconds));
        out.put("prompt_tokens", ok.stream().mapToLong(StreamedReply::promptTokens).sum());
        out.put("output_tokens", outputTokens);
        out.put("output_tokens_per_s", round(outputTokens / seconds));
        out.put("requests_per_s", round(ok.size() / seconds));
        out.put("ttft_ms", distribution(ok.stream().mapToDouble(StreamedReply::timeToFirstTokenMs).toArray()));
        out.put("itl_ms", distribution(ok.stream().flatMapToDouble(r -> DoubleStream.of(r.interTokenMs())).toArray()));
        out.put("tpot_ms", distribution(ok.stream().mapToDouble(StreamedReply::timePerOutputTokenMs)
                .filter(ms -> !Double.isNaN(ms)).toArray()));
        out.put("latency_ms", distribution(ok.stream().mapToDouble(StreamedReply::latencyMs).toArray()));
        List<String> errors = replies.stream().filter(StreamedReply::failed).map(StreamedReply::error).distinct().limit(5).toList();
        if (!errors.isEmpty()) {
            out.put("errors", errors);
        }
        return out;
    }

    /** mean, p50, p90, p99; empty when there are no values. */
    static Map<String, Object> distribution(double[] values) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (values.length == 0) {
            return out;
        }
        out.put("mean", round(DoubleStream.of(values).average().orElseThrow()));
        for (double p : PERCENTILES) {
            out.put("p" + (int) p, round(percentile(values, p)));
        }
        return out;
    }

    static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
