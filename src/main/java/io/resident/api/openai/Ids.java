package io.resident.api.openai;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Response ids and timestamps as OpenAI's API has them. */
final class Ids {

    private Ids() {}

    /** A prefix ("chatcmpl-", "cmpl-") and 24 random hex digits. */
    static String next(String prefix) {
        byte[] random = new byte[12];
        ThreadLocalRandom.current().nextBytes(random);
        return prefix + HexFormat.of().formatHex(random);
    }

    /** Unix seconds, OpenAI's "created". */
    static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
