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
 * A GPU command, not a test: float16 greedy ids of every fixture against transformers' float16 ids, one line per
 * prompt (speed is io.resident.bench.ServingBenchmark's).
 *
 * <p>Argument: the fixtures folder; -Ddevice=cpu runs the id check alone on the CPU.
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
            JsonNode golden = json.readTree(dir.resolve("golden.json").toFile());
            check(dir.getFileName().toString(), dir, golden.has("prompts") ? golden.get("prompts") : golden.get("conversations"));
        }
    }

    private static void check(String name, Path dir, JsonNode prompts) {
        try (CausalLM model = Paged.load(dir, DEVICE, "float16", prompts.size(), 128)) {
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
