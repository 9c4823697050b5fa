package io.resident.api.openai;

import io.resident.api.ApiException;
import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.lang.management.ManagementFactory;
import java.util.List;

/** GET /v1/models and /v1/models/{id}: the one model this service serves. */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelsResource {

    /** The name every request may use instead of the served id. */
    static final String DEFAULT = "default";

    /** @param data the served model */
    record ModelList(String object, List<ModelCard> data) {}

    private final ModelHolder holder;
    /** The model is loaded at startup: the process's start time is when it came to be served. */
    private final long created = ManagementFactory.getRuntimeMXBean().getStartTime() / 1000;

    ModelsResource(ModelHolder holder) {
        this.holder = holder;
    }

    @GET
    public ModelList list() {
        return new ModelList("list", List.of(ModelCard.of(holder.served(), created)));
    }

    /** Ids may hold a slash ("THUDM/chatglm3-6b"), so the id is the rest of the path. */
    @GET
    @Path("/{id: .+}")
    public ModelCard get(@PathParam("id") String id) {
        return ModelCard.of(lookup(holder, id), created);
    }

    /** The served model when a request names it, names "default", or names none; a 404 for any other name. */
    static ServedModel lookup(ModelHolder holder, String requested) {
        ServedModel model = holder.served();
        if (requested == null || requested.equals(model.id()) || requested.equals(DEFAULT)) {
            return model;
        }
        throw ApiException.modelNotFound(requested, model.id());
    }
}
