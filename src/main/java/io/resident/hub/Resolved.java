package io.resident.hub;

import java.nio.file.Path;

/** What RESIDENT_MODEL resolved to: a model directory on this machine, or the built-in demo model. */
public sealed interface Resolved {

    /**
     * A directory with config.json, safetensors weights and tokenizer files.
     *
     * @param directory the model directory (for a Hub model, its snapshot folder in the cache)
     * @param origin    where it came from, for the log
     */
    record Local(Path directory, String origin) implements Resolved {
    }

    /** @param reason why the demo model is served, for the log */
    record Demo(String reason) implements Resolved {
    }
}
