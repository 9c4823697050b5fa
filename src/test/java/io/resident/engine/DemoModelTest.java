package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

/** The demo model samples by default, so that a first reply on the page or the API is varied, not blank. */
class DemoModelTest {

    @Test
    void samplesAtTemperature08ByDefault() {
        try (Tokenizer tokenizer = Tokenizers.load(DemoModel.tokenizerDirectory())) {
            assertEquals(0.8, SamplingParams.builder(DemoModel.config(tokenizer).generation()).build().temperature());
        }
    }
}
