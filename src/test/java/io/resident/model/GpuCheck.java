package io.resident.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A GPU command, not a test: float16 greedy ids of every fixture against transformers' float16 ids, then
 * decode-step timings of random-weight models of real shapes. Prints one line per figure.
 *
 * <p>Arguments: the fixtures folder, a ChatGLM3 fixture folder, the ChatGLM3 float16 reference json;
 * -Ddevice=cpu runs the id check alone on the CPU.
 */
public final class GpuCheck {

    private static final String DEVICE = System.getProperty("device", "cuda");

    public static void main(String[] args) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Path> dirs;
        try (Stream<Path> list = Files.list(Path.of(args[0]))) {
            dirs = list.filter(d -> Files.exists(d.resolve("golden.json"))).sorted().toList();
        }
        for (Path dir : dirs) {
            JsonNode prompts = json.readTree(dir.resolve("golden.json").toFile()).get("prompts");
            check(dir.getFileName().toString(), dir, prompts);
        }
        check("chatglm3-6b-tiny", Path.of(args[1]), json.readTree(Path.of(args[2]).toFile()).get("conversations"));
        if (DEVICE.equals("cpu")) {
            return;
        }
        bench("qwen2.5-0.5b-shape", new ModelConfig("qwen2", 151936, 896, 24, 14, 2, 64, 4864, 32768, List.of(), "bfloat16",
                1e6, 64, null, 1e-6, true, true, 0, GenerationDefaults.NONE));
        bench("chatglm3-6b-shape", new ModelConfig("chatglm", 65024, 4096, 28, 32, 2, 128, 13696, 8192, List.of(), "float16",
                10000, 64, null, 1e-5, true, false, 0, GenerationDefaults.NONE));
    }

    private static void check(String name, Path dir, JsonNode prompts) {
        try (CausalLM model = ModelLoader.load(dir, DEVICE, "float16", prompts.size(), 128)) {
            List<int[]> ids = new ArrayList<>();
            prompts.forEach(p -> ids.add(ints(p.get("prompt_ids"))));
            Greedy.Run run = Greedy.run(model, ids, 8, 32);
            for (int i = 0; i < ids.size(); i++) {
                System.out.printf("fp16 on %s, %s prompt %d: same ids as transformers fp16 CUDA for %d/32 tokens, as the fp32 reference for %d/32%n",
                        DEVICE, name, i, agree(run.ids().get(i), ints(prompts.get(i).get("fp16_cuda_ids"))),
                        agree(run.ids().get(i), ints(prompts.get(i).get("output_ids"))));
            }
        }
    }

    /** ms per decode step at batch 1 and 16 with 32 cached positions per slot; float16 on cuda:0. */
    private static void bench(String name, ModelConfig config) {
        try (CausalLM model = ModelLoader.random(config, 7, DEVICE, "float16", 16, 256)) {
            for (int batch : new int[] {1, 16}) {
                int[] prompt = IntStream.range(0, 32).map(i -> 100 + i * 7).toArray();
                for (int slot = 0; slot < batch; slot++) {
                    model.forward(List.of(new CausalLM.Segment(slot, 0, prompt)));
                }
                int steps = 64;
                long start = 0;
                for (int step = -8; step < steps; step++) { // 8 warm-up steps
                    if (step == 0) {
                        start = System.nanoTime();
                    }
                    int position = 32 + 8 + step;
                    model.forward(IntStream.range(0, batch).mapToObj(s -> new CausalLM.Segment(s, position, new int[] {42})).toList());
                }
                double ms = (System.nanoTime() - start) / 1e6 / steps;
                System.out.printf("bench %s batch %d: %.1f ms per decode step, %.0f tokens/s aggregate (%d parameters)%n",
                        name, batch, ms, batch * 1000 / ms, model.parameterCount());
            }
        }
    }

    private static int agree(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) {
            n++;
        }
        return n;
    }

    private static int[] ints(JsonNode array) {
        return array == null ? new int[0] : IntStream.range(0, array.size()).map(i -> array.get(i).asInt()).toArray();
    }
}
