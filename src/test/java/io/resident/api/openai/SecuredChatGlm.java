package io.resident.api.openai;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.resident.model.Fixtures;
import java.util.Map;

/**
 * The app serving the ChatGLM3 fixture (tiny weights with a reference from transformers) behind an API key, with a
 * small body limit and one slot that no request may wait for, so that the 401, 413 and 503 answers can be seen.
 */
public class SecuredChatGlm implements QuarkusTestProfile {

    static final String KEY = "sk-resident-test";
    static final String BEARER = "Bearer " + KEY;
    static final int BODY_LIMIT = 64 * 1024;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "resident.model", Fixtures.own("chatglm3-6b-tiny").toAbsolutePath().toString(),
                "resident.api-key", KEY,
                "resident.max-request-body", Integer.toString(BODY_LIMIT),
                "resident.max-batch", "1",
                "resident.max-waiting", "0");
    }
}
