package io.resident.engine;

import io.resident.model.GenerationDefaults;
import io.resident.tokenizer.Tokenizer;

/**
 * The model the service answers with, once loaded and warmed up.
 *
 * @param id         what /v1/models lists: the Hugging Face id, the directory's name, or "resident-demo"
 * @param demo       true for the built-in demo model (random weights): it must never pass for a real model
 * @param maxContext positions a conversation may fill (prompt and reply)
 * @param acceleration which compute path runs and why: pure DJL, or the native companion and what it does
 */
public record ServedModel(String id, boolean demo, String family, String device, String dtype,
        int maxContext, String acceleration, Tokenizer tokenizer, Engine engine, GenerationDefaults defaults) {

    public static final String DEMO_ID = "resident-demo";
}
