package io.resident.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One .safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the data. Tensors are read by mapping their byte range, never the whole file.
 */
final class Safetensors implements AutoCloseable {

    /** A tensor's place in the file. */
    record Entry(String name, String dtype, long[] shape, long begin, long end) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    Safetensors(Path file) {
        this.file = file;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
            long size = channel.size();
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (size < 8 || channel.read(lengthBytes, 0) != 8) {
                throw new ModelLoadException(file + " is not a safetensors file (shorter than its header length)");
            }
            long headerLength = lengthBytes.getLong(0);
            if (headerLength <= 0 || headerLength > size - 8 || headerLength > 100_000_000) {
                throw new ModelLoadException(
                        file + " is truncated or not a safetensors file (header of " + headerLength + " bytes, file of " + size + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            channel.read(header, 8);
            dataStart = 8 + headerLength;
            readHeader(JSON.readTree(header.array()), size - dataStart);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private void readHeader(JsonNode header, long dataSize) {
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode t = field.getValue();
            String dtype = t.path("dtype").asText();
            long[] shape = new long[t.path("shape").size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.path("shape").get(i).asLong();
                elements *= shape[i];
            }
            long begin = t.path("data_offsets").path(0).asLong(-1);
            long end = t.path("data_offsets").path(1).asLong(-1);
            String name = field.getKey();
            if (end > dataSize) {
                throw new ModelLoadException(file + " is truncated: tensor " + name + " ends at byte " + end
                        + " of the data, which holds only " + dataSize + " bytes");
            }
            if (begin < 0 || end - begin != elements * bytesPer(dtype, name)) {
                throw new ModelLoadException(file + ": tensor " + name + " has a byte range that does not match its shape");
            }
            entries.put(name, new Entry(name, dtype, shape, begin, end));
        }
    }

    private long bytesPer(String dtype, String name) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new ModelLoadException(
                    file + ": tensor " + name + " has dtype " + dtype + "; only F32, F16 and BF16 are supported");
        };
    }

    Path file() {
        return file;
    }

    Map<String, Entry> entries() {
        return entries;
    }

    /** The tensor's bytes, mapped from the file (nothing is read into the heap). */
    ByteBuffer map(Entry entry) {
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + entry.begin(), entry.end() - entry.begin())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelLoadException("cannot map tensor " + entry.name() + " of " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // a read-only channel has nothing to flush
        }
    }
}
