package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights are read through memory mapping, one tensor at a time: a JVM whose heap is a fraction of the checkpoint
 * loads it, holds no second copy of it while loading, and its weights stay valid after the mappings are
 * collected. The loading runs in a JVM of its own, started with a small heap.
 */
class MappedLoadTest {

    private static final String HEAP = "-Xmx64m";

    @TempDir
    Path temp;

    @Test
    void aCheckpointFourTimesTheHeapLoadsWithoutASecondCopy() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("llama-220mb"));
        long fileBytes = writeSyntheticLlama(dir);
        Map<String, String> figures = runInSmallHeap(dir);

        long heap = Long.parseLong(figures.get("max_heap"));
        assertTrue(heap * 3 < fileBytes, "heap " + heap + " is not far below the checkpoint's " + fileBytes + " bytes");
        long parameters = Long.parseLong(figures.get("parameters"));
        assertEquals((fileBytes - Long.parseLong(figures.get("header_bytes"))) / 2, parameters, "every fp16 tensor loaded");
        // the float32 model is twice the fp16 file; a second full copy of the checkpoint would add the file's size again
        long modelBytes = 4 * parameters;
        long grown = Long.parseLong(figures.get("peak_anon")) - Long.parseLong(figures.get("anon_before"));
        assertTrue(grown < modelBytes + fileBytes * 3 / 4, "anonymous memory grew by " + grown + " bytes while loading a "
                + modelBytes + "-byte model from a " + fileBytes + "-byte file");
        assertTrue(Boolean.parseBoolean(figures.get("finite_logits")), "the loaded model computes finite logits");
        // a float32 checkpoint computed in float32: its weights outlive the collected mappings
        assertTrue(Double.parseDouble(figures.get("float32_after_gc_max_diff")) < 1e-4, figures.toString());
    }

    /** The child JVM: loads the model given, reports figures as key=value lines. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Map<String, String> out = new LinkedHashMap<>();
        out.put("max_heap", Long.toString(Runtime.getRuntime().maxMemory()));
        out.put("header_bytes", args[1]);
        ai.djl.engine.Engine.getEngine("PyTorch"); // libtorch loaded before the baseline
        AtomicLong peak = new AtomicLong(anonBytes());
        out.put("anon_before", Long.toString(peak.get()));
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(anonBytes(), Math::max);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try (CausalLM model = Paged.load(dir, "cpu", "auto", 1, 16)) {
            sampler.interrupt();
            sampler.join();
            peak.accumulateAndGet(anonBytes(), Math::max);
            out.put("peak_anon", Long.toString(peak.get()));
            out.put("parameters", Long.toString(model.parameterCount()));
            float[] logits = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 0), 0, new int[] {1, 200, 3000})))[0];
            boolean finite = true;
            for (float l : logits) {
                finite &= Float.isFinite(l);
            }
            out.put("finite_logits", Boolean.toString(finite));
        }
        out.put("float32_after_gc_max_diff", Double.toString(float32AfterGc()));
        out.forEach((k, v) -> System.out.println(k + "=" + v));
    }

    /** Loads the float32 fixture, lets the collector unmap what it can, then compares its logits with the reference. */
    private static double float32AfterGc() throws InterruptedException {
        Path fixture = Fixtures.own("llama-mqa-tiny");
        JsonNode first = Fixtures.json(fixture.resolve("golden.json")).get("prompts").get(0);
        try (CausalLM model = Paged.load(fixture, "cpu", "auto", 1, 64)) {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(100);
            }
            float[] got = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 0), 0, Fixtures.ints(first.get("prompt_ids")))))[0];
            float[] want = Fixtures.floats(first.get("logits_first_steps").get(0));
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(want[i] - got[i]));
            }
            return worst;
        }
    }

    private static long anonBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("RssAnon:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("no /proc/self/status", e);
        }
        throw new IllegalStateException("no RssAnon in /proc/self/status");
    }

    private Map<String, String> runInSmallHeap(Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = temp.resolve("child.log");
        Process child = new ProcessBuilder(java, HEAP, "-Dai.djl.offline=true", "--enable-native-access=ALL-UNNAMED",
                "-XX:ErrorFile=" + temp.resolve("hs_err_%p.log"),
                "-cp", classPath, MappedLoadTest.class.getName(), dir.toString(), Long.toString(headerBytes))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the loading JVM did not finish in 2 minutes");
        String output = Files.readString(log);
        assertEquals(0, child.exitValue(), "the loading JVM failed:\n" + output);
        Map<String, String> figures = new HashMap<>();
        output.lines().filter(l -> l.matches("[a-z0-9_]+=.*")).forEach(l -> figures.put(l.substring(0, l.indexOf('=')),
                l.substring(l.indexOf('=') + 1)));
        return figures;
    }

    private long headerBytes;

    /** A Llama 2 shape of about 110 M parameters in float16 (vocab 32000, hidden 1024, 4 layers); returns the file's size. */
    private long writeSyntheticLlama(Path dir) throws IOException {
        int vocab = 32000, hidden = 1024, layers = 4, heads = 16, kvHeads = 4, ffn = 2816, headDim = hidden / heads;
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode()
                .put("model_type", "llama").put("vocab_size", vocab).put("hidden_size", hidden)
                .put("num_hidden_layers", layers).put("num_attention_heads", heads).put("num_key_value_heads", kvHeads)
                .put("intermediate_size", ffn).put("max_position_embeddings", 256).put("rms_norm_eps", 1e-5)
                .put("tie_word_embeddings", false).put("torch_dtype", "float16").put("eos_token_id", 2);
        config.putArray("architectures").add("LlamaForCausalLM");
        json.writeValue(dir.resolve("config.json").toFile(), config);

        Map<String, long[]> tensors = new LinkedHashMap<>();
        tensors.put("model.embed_tokens.weight", new long[] {vocab, hidden});
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            tensors.put(p + "input_layernorm.weight", new long[] {hidden});
            tensors.put(p + "self_attn.q_proj.weight", new long[] {(long) heads * headDim, hidden});
            tensors.put(p + "self_attn.k_proj.weight", new long[] {(long) kvHeads * headDim, hidden});
            tensors.put(p + "self_attn.v_proj.weight", new long[] {(long) kvHeads * headDim, hidden});
            tensors.put(p + "self_attn.o_proj.weight", new long[] {hidden, (long) heads * headDim});
            tensors.put(p + "post_attention_layernorm.weight", new long[] {hidden});
            tensors.put(p + "mlp.gate_proj.weight", new long[] {ffn, hidden});
            tensors.put(p + "mlp.up_proj.weight", new long[] {ffn, hidden});
            tensors.put(p + "mlp.down_proj.weight", new long[] {hidden, ffn});
        }
        tensors.put("model.norm.weight", new long[] {hidden});
        tensors.put("lm_head.weight", new long[] {vocab, hidden});

        ObjectNode header = json.createObjectNode();
        long offset = 0;
        for (var t : tensors.entrySet()) {
            long bytes = 2;
            for (long d : t.getValue()) {
                bytes *= d;
            }
            ObjectNode entry = header.putObject(t.getKey()).put("dtype", "F16");
            var shape = entry.putArray("shape");
            for (long d : t.getValue()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerJson = json.writeValueAsBytes(header);
        headerBytes = 8 + headerJson.length;
        // one block of small normal values, repeated: enough for loading and a finite forward pass
        ByteBuffer block = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        Random random = new Random(5);
        while (block.hasRemaining()) {
            block.putShort(Float.floatToFloat16((float) random.nextGaussian() * 0.02f));
        }
        Path file = dir.resolve("model.safetensors");
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerJson.length));
            out.write(ByteBuffer.wrap(headerJson));
            for (long left = offset; left > 0; left -= block.limit()) {
                block.clear().limit((int) Math.min(block.capacity(), left));
                while (block.hasRemaining()) {
                    out.write(block);
                }
            }
        }
        return Files.size(file);
    }
}
