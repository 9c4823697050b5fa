package io.resident.api.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.engine.ServedModel;

/**
 * One entry of GET /v1/models, OpenAI's fields first, then vLLM's max_model_len and resident's own. The demo model
 * says what it is in owned_by, demo and description, so that it never passes for a real model.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record ModelCard(String id, String object, long created, String ownedBy, int maxModelLen, boolean demo,
        String family, String device, String dtype, String acceleration, String description) {

    static ModelCard of(ServedModel model, long created) {
        String description = model.demo()
                ? "DEMO MODEL: tiny random weights with Qwen3's real tokenizer, not a real model; its replies are noise."
                        + " Set RESIDENT_MODEL to serve a real one."
                : model.family() + " model, " + model.dtype() + " on " + model.device() + ", " + model.maxContext()
                        + " positions per request";
        return new ModelCard(model.id(), "model", created, model.demo() ? "resident-demo (random weights)" : "resident",
                model.maxContext(), model.demo(), model.family(), model.device(), model.dtype(),
                model.acceleration(), description);
    }
}
