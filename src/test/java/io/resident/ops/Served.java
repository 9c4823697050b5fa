package io.resident.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.Engine;
import io.resident.engine.GenerationRequest;
import io.resident.engine.ModelHolder;
import io.resident.engine.SamplingParams;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import io.resident.tokenizer.Message;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** What the ops tests do with the app's one model: wait for it, and run replies straight through its engine. */
final class Served {

    private Served() {}

    static ServedModel await(ModelHolder holder) throws InterruptedException {
        until(holder::ready, Duration.ofMinutes(2), "the model never became ready: " + holder.state());
        return holder.served();
    }

    /** A greedy chat turn that runs until cancelled or to maxTokens: no stop id ends it. */
    static TokenStream reply(ServedModel served, String text, int maxTokens) throws InterruptedException {
        int[] prompt = served.tokenizer().chatPrompt(List.of(new Message("user", text)));
        return served.engine().submit(new GenerationRequest(prompt,
                SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build()));
    }

    static void until(BooleanSupplier condition, Duration within, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, failure);
            Thread.sleep(10);
        }
    }

    static void untilStats(Engine engine, int running, int waiting) throws InterruptedException {
        until(() -> engine.stats().running() == running && engine.stats().waiting() == waiting, Duration.ofSeconds(20),
                "never " + running + " running and " + waiting + " waiting: " + engine.stats());
    }
}
