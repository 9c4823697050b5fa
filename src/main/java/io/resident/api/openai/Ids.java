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

    /** A tool call's id: "call_" and 24 random hex digits. */
    static String call() {
        return next("call_");
    }

    /** The id a legacy function_call gets in the conversation, from its message's place, so its result can refer to it. */
    static String legacyCall(String message) {
        return "call_" + message.replaceAll("\\W", "");
    }

    /** Unix seconds, OpenAI's "created". */
    static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
