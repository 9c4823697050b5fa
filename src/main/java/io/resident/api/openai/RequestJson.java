package io.resident.api.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.NumberDeserializers;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.resident.api.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * Reads request bodies as vLLM's server does: unknown fields are ignored, a value of the wrong type is a 400 that
 * names its field ("messages[0].role"), and 1.5 is no integer. The body is read from bytes, so the text is UTF-8 (as
 * JSON is) whatever charset the header names or leaves out (api.JsonContentType wants a JSON content type).
 */
@ApplicationScoped
public class RequestJson {


    private final ObjectMapper mapper;

    RequestJson(ObjectMapper json) {
        this.mapper = json.copy()
                .registerModule(new SimpleModule().addDeserializer(Double.class, new FiniteDouble(Double.class, null))
                        .addDeserializer(double.class, new FiniteDouble(Double.TYPE, 0.0)))
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS) // "5" is no integer, 5 no boolean
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    public <T> T read(byte[] body, Class<T> type) {
        if (body == null || body.length == 0) {
            throw ApiException.invalid(null, "The request body is empty; send a JSON object");
        }
        requireUtf8(body);
        try {
            T value = mapper.readValue(body, type);
            if (value == null) {
                throw ApiException.invalid(null, "The request body is null; send a JSON object");
            }
            return value;
        } catch (MismatchedInputException e) {
            String param = path(e);
            throw ApiException.invalid(param.isEmpty() ? null : param, param.isEmpty()
                    ? "The request body must be a JSON object"
                    : "'" + param + "' must be " + kind(e.getTargetType()));
        } catch (JsonMappingException e) {
            String param = path(e);
            throw ApiException.invalid(param.isEmpty() ? null : param, "'" + param + "' is not valid: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw ApiException.invalid(null, "The request body is not valid JSON" + where + ": "
                    + e.getOriginalMessage().replaceAll("\\s*\\(start marker at .*$", ""));
        } catch (IOException e) {
            throw new UncheckedIOException("reading a byte array", e); // cannot happen: nothing is read from a stream
        }
    }

    /** A number past a double's range (1e400) is refused as out of range rather than read as Infinity. */
    private static final class FiniteDouble extends NumberDeserializers.DoubleDeserializer {

        FiniteDouble(Class<Double> type, Double empty) {
            super(type, empty);
        }

        @Override
        public Double deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            Double value = super.deserialize(parser, context);
            if (value != null && value.isInfinite() && parser.currentToken().isNumeric()) {
                throw JsonMappingException.from(parser, "the number " + parser.getText() + " is out of range");
            }
            return value;
        }
    }

    /** Jackson reads overlong and surrogate UTF-8 sequences as characters; the WebSocket refuses them, and so does this. */
    private static void requireUtf8(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body));
        } catch (CharacterCodingException e) {
            throw ApiException.invalid(null, "The request body is not valid UTF-8: " + e.getMessage());
        }
    }

    private static String kind(Class<?> type) {
        if (type == null) {
            return "of another type";
        } else if (type == Integer.class || type == Long.class || type == int.class || type == long.class) {
            return "an integer";
        } else if (type == Double.class || type == double.class) {
            return "a number";
        } else if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        } else if (type == String.class) {
            return "a string";
        } else if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        return "an object";
    }

    /** The field a mapping error is about, as OpenAI names params: "messages[0].content". */
    private static String path(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }
}
