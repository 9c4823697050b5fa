package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The startup checks other than the model's files (which StartupIT shows end to end): libtorch, device, tokenizer. */
class EnvironmentCheckTest {

    @TempDir
    Path dir;

    @Test
    void libtorch2ServesAndAnOlderOrUnreadableVersionIsRefused() {
        assertNull(EnvironmentCheck.libtorchProblem("2.7.1", "2.7.1"));
        assertNull(EnvironmentCheck.libtorchProblem("2.11.0", "2.7.1"), "another 2.x works with a JNI library made for it");
        assertEquals("libtorch 1.13.1 is too old: resident needs libtorch 2.x; unset PYTORCH_VERSION and"
                + " PYTORCH_LIBRARY_PATH to use the libtorch 2.7.1 DJL is built for", EnvironmentCheck.libtorchProblem("1.13.1", "2.7.1"));
        assertEquals("DJL's PyTorch engine reports libtorch version \"nightly\", which is no version: unset PYTORCH_VERSION and"
                + " PYTORCH_LIBRARY_PATH to use the libtorch 2.7.1 DJL is built for", EnvironmentCheck.libtorchProblem("nightly", "2.7.1"));
    }

    @Test
    void theRequestedDeviceMustExist() {
        assertEquals(Device.cpu(), EnvironmentCheck.requireDevice("cpu"));
        StartupException missing = assertThrows(StartupException.class, () -> EnvironmentCheck.requireDevice("cuda:99"));
        assertEquals(1, missing.problems().size());
        assertTrue(missing.getMessage().startsWith("RESIDENT_DEVICE=cuda:99: device cuda:99 asked for, but "), missing.getMessage());
        StartupException unknown = assertThrows(StartupException.class, () -> EnvironmentCheck.requireDevice("tpu"));
        assertTrue(unknown.getMessage().startsWith("RESIDENT_DEVICE=tpu: device \"tpu\" is not one of auto, cpu, cuda, cuda:N"),
                unknown.getMessage());
    }

    @Test
    void aTokenizerThatLosesTextFailsTheRoundTrip() throws IOException {
        // a word-level vocabulary of one word: everything else becomes [UNK]
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\", \"eos_token_id\": 0}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"[UNK]\", \"chat_template\": \"{{ messages[0].content }}\"}");
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false,
                                   "normalized": false, "special": true}],
                 "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "Hello": 1}, "unk_token": "[UNK]"}}
                """);
        StartupException e = assertThrows(StartupException.class, () -> EnvironmentCheck.requireTokenizer(dir));
        assertTrue(e.getMessage().startsWith("the tokenizer of " + dir + " does not round-trip: \"" + EnvironmentCheck.ROUND_TRIP_TEXT
                + "\" came back as \""), e.getMessage());
    }

    @Test
    void eachProblemOfAModelDirectoryIsALineOfItsOwn() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"mamba\", \"architectures\": [\"MambaForCausalLM\"]}");
        Files.writeString(dir.resolve("pytorch_model.bin"), "not read");
        StartupException e = assertThrows(StartupException.class, () -> EnvironmentCheck.requireModelDirectory(dir));
        List<String> problems = e.problems();
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("unsupported architecture MambaForCausalLM"), problems.get(0));
        assertEquals(dir + " has no model.safetensors or model.safetensors.index.json (only pytorch_model*.bin, which is not"
                + " supported: convert it to safetensors)", problems.get(1));
        assertEquals(dir + " has no tokenizer.json or tokenizer.model", problems.get(2));
    }
}
