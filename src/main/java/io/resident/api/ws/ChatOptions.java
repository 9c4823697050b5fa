package io.resident.api.ws;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.engine.SamplingParams;
import io.resident.model.GenerationDefaults;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;

/**
 * A chat frame's "options", type-checked; unset ones (absent or null) take the model's generation_config defaults.
 * Range checks are SamplingParams' own, so the WebSocket and the OpenAI API refuse the same values alike.
 */
record ChatOptions(Double temperature, Double topP, Integer topK, Double repetitionPenalty, Integer maxTokens,
        Long seed, List<String> stop, StreamBuffer.Mode stream) {

    private static final List<String> NAMES =
            List.of("temperature", "top_p", "top_k", "repetition_penalty", "max_tokens", "seed", "stop", "stream");

    static final ChatOptions NONE = new ChatOptions(null, null, null, null, null, null, null, StreamBuffer.Mode.TOKEN);

    /** @throws InvalidFrameException an unknown option, or one of the wrong type */
    static ChatOptions parse(JsonNode options) {
        if (options == null || options.isNull()) {
            return NONE;
        }
        if (!options.isObject()) {
            throw new InvalidFrameException("options must be an object");
        }
        for (Iterator<String> names = options.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!NAMES.contains(name)) {
                throw new InvalidFrameException("unknown option \"" + name + "\"; the options are " + String.join(", ", NAMES));
            }
        }
        String stream = text(options, "stream");
        StreamBuffer.Mode mode = stream == null ? StreamBuffer.Mode.TOKEN : StreamBuffer.Mode.of(stream);
        if (mode == null) {
            throw new InvalidFrameException("options.stream must be \"token\" or \"semantic\", was \"" + stream + "\"");
        }
        return new ChatOptions(number(options, "temperature"), number(options, "top_p"), integer(options, "top_k"),
                number(options, "repetition_penalty"), integer(options, "max_tokens"), seed(options), stop(options), mode);
    }

    /** @throws InvalidFrameException a value out of its range */
    SamplingParams sampling(GenerationDefaults defaults) {
        SamplingParams.Builder builder = SamplingParams.builder(defaults);
        if (temperature != null) {
            builder.temperature(temperature);
        }
        if (topP != null) {
            builder.topP(topP);
        }
        if (topK != null) {
            builder.topK(topK);
        }
        if (repetitionPenalty != null) {
            builder.repetitionPenalty(repetitionPenalty);
        }
        if (maxTokens != null) {
            builder.maxTokens(maxTokens);
        }
        if (stop != null) {
            builder.stop(stop);
        }
        try {
            return builder.seed(seed).build();
        } catch (IllegalArgumentException e) {
            throw new InvalidFrameException("options." + e.getMessage());
        }
    }

    /** The option's value when set (not absent, not null); of the wrong kind, the frame is refused. */
    private static JsonNode value(JsonNode options, String name, Predicate<JsonNode> kind, String kindName) {
        JsonNode value = options.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!kind.test(value)) {
            throw new InvalidFrameException("options." + name + " must be " + kindName + ", was " + value);
        }
        return value;
    }

    private static Double number(JsonNode options, String name) {
        JsonNode value = value(options, name, JsonNode::isNumber, "a number");
        return value == null ? null : value.doubleValue();
    }

    private static Integer integer(JsonNode options, String name) {
        JsonNode value = value(options, name, v -> v.isIntegralNumber() && v.canConvertToInt(), "an integer");
        return value == null ? null : value.intValue();
    }

    private static Long seed(JsonNode options) {
        JsonNode value = value(options, "seed", v -> v.isIntegralNumber() && v.canConvertToLong(), "a 64-bit integer");
        return value == null ? null : value.longValue();
    }

    private static String text(JsonNode options, String name) {
        JsonNode value = value(options, name, JsonNode::isTextual, "a string");
        return value == null ? null : value.textValue();
    }

    /** A string or an array of strings, as OpenAI's stop. */
    private static List<String> stop(JsonNode options) {
        JsonNode value = value(options, "stop", v -> v.isTextual() || v.isArray() && allTextual(v),
                "a string or an array of strings");
        if (value == null) {
            return null;
        }
        if (value.isTextual()) {
            return List.of(value.textValue());
        }
        List<String> stops = new ArrayList<>();
        value.forEach(item -> stops.add(item.textValue()));
        return stops;
    }

    private static boolean allTextual(JsonNode array) {
        for (JsonNode item : array) {
            if (!item.isTextual()) {
                return false;
            }
        }
        return true;
    }
}
