package io.resident.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.resident.engine.EngineBusyException;
import io.resident.engine.ModelNotReadyException;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The 503 answers: while the model loads, and when the engine turns a request away (counted by the engine itself). */
class RestErrorsTest {

    private final RestErrors errors = new RestErrors();

    @Test
    void loadingModelIs503WithRetryAfter() {
        Response response = errors.loading(new ModelNotReadyException("the model is still loading"));
        assertEquals(503, response.getStatus());
        assertEquals(5L, response.getHeaders().getFirst("Retry-After"));
        ApiError.Detail error = ((ApiError) response.getEntity()).error();
        assertEquals("The model is not ready: the model is still loading", error.message());
        assertEquals("server_error", error.type());
        assertEquals("model_not_ready", error.code());
    }

    @Test
    void busyEngineIs503WithItsRetryAfterRoundedUpToSeconds() {
        Response response = errors.busy(new EngineBusyException("no slot freed up within PT30S", Duration.ofMillis(1500)));
        assertEquals(503, response.getStatus());
        assertEquals(2L, response.getHeaders().getFirst("Retry-After"));
        assertEquals("server_overloaded", ((ApiError) response.getEntity()).error().code());
    }
}
