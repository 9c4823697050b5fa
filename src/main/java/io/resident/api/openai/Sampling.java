package io.resident.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.api.ApiException;
import io.resident.engine.SamplingParams;
import io.resident.engine.ServedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns a request's sampling fields into the engine's SamplingParams, on top of the checkpoint's generation_config defaults. */
final class Sampling {

    /** SamplingParams' messages start with the request field at fault: "top_p must be in (0, 1], was 0.0". */
    private static final Pattern PARAM_FIRST = Pattern.compile("^([a-z_]+) must ");

    private Sampling() {}

    /**
     * @param promptParam  the field that holds the prompt ("messages" or "prompt"), for a context overflow
     * @param promptTokens the prompt's length
     * @param limit        the asked-for token limit
     * @param alternatives top_logprobs: alternatives per token, 0 for none
     */
    static SamplingParams params(SamplingFields request, ServedModel model, String promptParam, int promptTokens,
            TokenLimit limit, int alternatives) {
        refuseUnsupported(request);
        int context = model.maxContext();
        if (promptTokens >= context) {
            throw ApiException.contextOverflow(promptParam, "This model's maximum context length is " + context
                    + " tokens; the prompt has " + promptTokens + " tokens. Shorten the " + promptParam + ".");
        }
        SamplingParams.Builder builder = SamplingParams.builder(model.defaults());
        if (limit.value() != null) {
            if (limit.value() < 1) {
                throw ApiException.invalid(limit.param(), "'" + limit.param() + "' must be at least 1, was " + limit.value());
            }
            if (promptTokens + limit.value() > context) {
                throw ApiException.contextOverflow(promptParam, "This model's maximum context length is " + context
                        + " tokens; the request asks for " + (promptTokens + limit.value()) + " (" + promptTokens + " in the "
                        + promptParam + ", " + limit.value() + " in the completion). Shorten the " + promptParam
                        + " or lower '" + limit.param() + "'.");
            }
            builder.maxTokens(limit.value());
        }
        if (request.temperature() != null) {
            builder.temperature(request.temperature());
        }
        if (request.topP() != null) {
            builder.topP(request.topP());
        }
        if (request.topK() != null) {
            builder.topK(request.topK() == -1 ? 0 : request.topK()); // vLLM's -1 and 0 both keep every token
        }
        if (request.repetitionPenalty() != null) {
            builder.repetitionPenalty(request.repetitionPenalty());
        }
        if (request.presencePenalty() != null) {
            builder.presencePenalty(request.presencePenalty());
        }
        if (request.frequencyPenalty() != null) {
            builder.frequencyPenalty(request.frequencyPenalty());
        }
        try {
            return builder.seed(request.seed()).ignoreEos(Boolean.TRUE.equals(request.ignoreEos())).stop(stop(request.stop())).topLogprobs(alternatives).build();
        } catch (IllegalArgumentException e) {
            Matcher m = PARAM_FIRST.matcher(e.getMessage());
            String param = m.find() ? m.group(1) : null;
            throw ApiException.invalid(param, param == null ? e.getMessage() : "'" + param + "'" + e.getMessage().substring(param.length()));
        }
    }

    /** n, logit_bias and stream_options as OpenAI's API checks them. */
    private static void refuseUnsupported(SamplingFields request) {
        if (request.n() != null && request.n() != 1) {
            throw ApiException.invalid("n", request.n() < 1 ? "'n' must be at least 1, was " + request.n()
                    : "'n' is " + request.n() + ": this service returns one choice per request; send n requests instead");
        }
        JsonNode bias = request.logitBias();
        if (present(bias) && !(bias.isObject() && bias.isEmpty())) {
            throw ApiException.invalid("logit_bias", "'logit_bias' is not supported");
        }
        if (request.streamOptions() != null && !request.streaming()) {
            throw ApiException.invalid("stream_options", "'stream_options' is only allowed with \"stream\": true");
        }
    }

    private static List<String> stop(JsonNode stop) {
        if (!present(stop)) {
            return List.of();
        }
        if (stop.isTextual() && !stop.asText().isEmpty()) {
            return List.of(stop.asText());
        }
        List<String> stops = new ArrayList<>();
        for (JsonNode s : stop.isArray() ? stop : List.<JsonNode>of()) {
            if (!s.isTextual() || s.asText().isEmpty()) {
                break;
            }
            stops.add(s.asText());
        }
        if (!stop.isArray() || stops.size() != stop.size()) {
            throw ApiException.invalid("stop", "'stop' must be a non-empty string or an array of them");
        }
        return stops;
    }

    static boolean present(JsonNode node) {
        return node != null && !node.isNull() && !node.isMissingNode();
    }
}
