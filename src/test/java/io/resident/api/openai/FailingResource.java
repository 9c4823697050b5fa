package io.resident.api.openai;

import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;

/** A test endpoint that fails the way a bug would: with an exception no mapper was written for. */
@Path(FailingResource.PATH)
public class FailingResource {

    static final String PATH = "/test/unexpected-error";
    static final String SECRET = "internal detail";

    @POST
    public String fail() {
        throw new IllegalStateException(SECRET);
    }
}
