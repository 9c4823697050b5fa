package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** config.json forms, generation defaults, and the one-line errors of a checkpoint that cannot load. */
class ModelLoaderTest {

    @TempDir
    Path temp;

    @Test
    void readsLlama3ScalingFromRopeParameters() {
        ModelConfig c = ModelLoader.readConfig(Fixtures.own("llama3-tiny"));
        assertEquals("llama", c.family());
        assertEquals(new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 32), c.ropeScaling());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(List.of(2, 3, 4), c.eosTokenIds());
        assertEquals(new GenerationDefaults(List.of(2, 3, 4), true, 0.6, 50, 0.9, 1.0, 0), c.generation());
        assertEquals("float16", c.dtype());
    }

    @Test
    void classicRopeKeysGiveTheSameConfig() throws IOException {
        Path dir = copy("llama3-tiny");
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        ObjectNode scaling = (ObjectNode) json.remove("rope_parameters");
        json.put("rope_theta", scaling.remove("rope_theta").asDouble());
        json.set("rope_scaling", scaling);
        json.put("torch_dtype", json.remove("dtype").asText());
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), json);
        assertEquals(ModelLoader.readConfig(Fixtures.own("llama3-tiny")), ModelLoader.readConfig(dir));
    }

    @Test
    void readsEachFamilysShape() {
        ModelConfig mqa = ModelLoader.readConfig(Fixtures.own("llama-mqa-tiny"));
        assertEquals(List.of(4, 1, 32, 32), List.of(mqa.heads(), mqa.kvHeads(), mqa.headDim(), mqa.rotaryDim()));
        assertTrue(mqa.tiedEmbeddings());
        assertNull(mqa.ropeScaling());
        ModelConfig qwen = ModelLoader.readConfig(Fixtures.own("qwen2-tiny"));
        assertTrue(qwen.qkvBias() && qwen.tiedEmbeddings());
        assertEquals(new GenerationDefaults(List.of(5, 6), true, 0.7, 20, 0.8, 1.05, 0), qwen.generation());
        assertEquals("bfloat16", ModelLoader.readConfig(Fixtures.own("qwen2-bf16-tiny")).dtype());
        ModelConfig mistral = ModelLoader.readConfig(Fixtures.own("mistral-tiny"));
        assertEquals(1024, mistral.slidingWindow());
        assertEquals(1024, mistral.contextLimit());
    }

    @Test
    void chatglm3_32kTakesItsRopeRatioAndContextFromConfigJson() throws IOException {
        Path dir = Files.createDirectories(temp.resolve("chatglm3-6b-32k-tiny"));
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(Fixtures.own("chatglm3-6b-tiny").resolve("config.json").toFile());
        json.put("rope_ratio", 50).put("seq_length", 32768);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), json);
        ModelConfig c = ModelLoader.readConfig(dir);
        assertEquals(500000.0, c.ropeTheta(), "RoPE base 10000 * rope_ratio");
        assertEquals(32768, c.contextLimit());
        assertEquals(List.of(4, 2, 16, 8), List.of(c.heads(), c.kvHeads(), c.headDim(), c.rotaryDim()), "MQA groups, half-rotated heads");
        assertTrue(c.qkvBias() && !c.tiedEmbeddings());
        assertEquals(new GenerationDefaults(List.of(), true, 0.8, 50, 0.8, 1.0, 0), c.generation(),
                "without a generation_config.json, chat()'s sampling");

        json.put("multi_query_attention", false);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), json);
        assertEquals(4, ModelLoader.readConfig(dir).kvHeads(), "without multi_query_attention every head has its own K and V");
    }

    @Test
    void mistralContextIsCappedAtItsSlidingWindow() {
        try (CausalLM model = Paged.load(Fixtures.own("mistral-tiny"), "cpu", "auto", 1, 4096)) {
            assertEquals(1024, model.maxContext());
        }
    }

    @Test
    void explainsEachBrokenCheckpointInOneLine() throws IOException {
        assertEquals("model directory " + temp.resolve("none") + " does not exist", message(() -> ModelLoader.readConfig(temp.resolve("none"))));
        assertEquals(temp + " has no config.json", message(() -> ModelLoader.readConfig(temp)));

        Files.writeString(temp.resolve("config.json"), "{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"]}");
        assertTrue(message(() -> ModelLoader.readConfig(temp)).startsWith("unsupported architecture GPT2LMHeadModel (model_type \"gpt2\")"));

        Files.writeString(temp.resolve("config.json"), "{\"model_type\": \"llama\", ");
        assertTrue(message(() -> ModelLoader.readConfig(temp)).contains("config.json is not valid JSON"));

        Path sharded = copy("llama3-tiny");
        Files.delete(sharded.resolve("model-00003-of-00004.safetensors"));
        assertEquals("shard model-00003-of-00004.safetensors listed in model.safetensors.index.json is missing from " + sharded,
                message(() -> Paged.load(sharded, "cpu", "auto", 1, 16)));

        Path truncated = copy("qwen2-tiny");
        Path file = truncated.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 1000));
        assertTrue(message(() -> Paged.load(truncated, "cpu", "auto", 1, 16)).matches(".*model.safetensors is truncated: tensor .* ends at byte .*"));
    }

    @Test
    void bfloat16ComputeIsRefusedWithAReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> Paged.load(Fixtures.own("qwen2-bf16-tiny"), "cpu", "bfloat16", 1, 16));
        assertTrue(e.getMessage().startsWith("dtype bfloat16 needs a GPU and resident's native companion"));
    }

    @Test
    void randomWeightsAreSeeded() {
        ModelConfig demo = ModelLoader.demoConfig(512, List.of(2), GenerationDefaults.NONE);
        float[][] first, second, other;
        List<CausalLM.Segment> prompt = List.of(new CausalLM.Segment(new int[] {1, 0}, 0, new int[] {5, 9, 200}));
        try (CausalLM model = Paged.random(demo, 42, "cpu", "auto", 1, 32)) {
            first = model.forward(prompt);
            assertEquals(512, first[0].length);
        }
        try (CausalLM model = Paged.random(demo, 42, "cpu", "auto", 1, 32)) {
            second = model.forward(prompt);
        }
        try (CausalLM model = Paged.random(demo, 43, "cpu", "auto", 1, 32)) {
            other = model.forward(prompt);
        }
        assertArrayEquals(first[0], second[0]);
        assertTrue(first[0][0] != other[0][0]);
    }

    private Path copy(String fixture) throws IOException {
        Path dir = Files.createDirectories(temp.resolve(fixture));
        try (Stream<Path> files = Files.list(Fixtures.own(fixture))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static String message(Executable load) {
        return assertThrows(ModelLoadException.class, load).getMessage();
    }
}
