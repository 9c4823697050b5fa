package io.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The settings refused at boot, before any model: one line each, naming the variable and its value. */
class ConfigCheckTest {

    @Test
    void theDefaultsPass() {
        assertEquals(List.of(), ConfigCheck.problems(ResidentConfigTest.read(Map.of()), OptionalInt.of(8080)));
    }

    @Test
    void everyProblemIsOneLineNamingItsVariable() {
        ResidentConfig config = ResidentConfigTest.read(Map.of("RESIDENT_DEVICE", "gpu0", "RESIDENT_DTYPE", "bfloat16",
                "RESIDENT_MAX_BATCH", "0", "RESIDENT_MAX_CONTEXT", "-1", "RESIDENT_READINESS_VRAM_THRESHOLD", "1.5",
                "RESIDENT_MAX_WAIT", "-1s", "RESIDENT_SESSION_SWEEP_INTERVAL", "0s"));

        assertEquals(List.of(
                "RESIDENT_DEVICE=gpu0: not one of auto, cpu, cuda, cuda:N",
                "RESIDENT_DTYPE=bfloat16: dtype bfloat16 needs a GPU and resident's native companion (built with"
                        + " src/main/cpp/build.sh, looked for at " + Path.of("native/libresident_native.so").toAbsolutePath()
                        + "): DJL's PyTorch engine has no bfloat16 type; use float16 (GPU) or float32",
                "RESIDENT_MAX_BATCH=0: must be at least 1",
                "RESIDENT_MAX_CONTEXT=-1: must be at least 1",
                "RESIDENT_SESSION_SWEEP_INTERVAL=PT0S: must be longer than 0",
                "RESIDENT_MAX_WAIT=PT-1S: must not be negative",
                "RESIDENT_READINESS_VRAM_THRESHOLD=1.5: a share of GPU memory, above 0 and at most 1",
                "QUARKUS_HTTP_PORT=99999: a TCP port is 0 to 65535"),
                ConfigCheck.problems(config, OptionalInt.of(99999)));
    }

    @Test
    void aStepHoldsTheDecodeOfEveryRunningReply() {
        ResidentConfig config = ResidentConfigTest.read(Map.of("RESIDENT_MAX_BATCH", "8", "RESIDENT_MAX_STEP_TOKENS", "7"));
        assertEquals(List.of("RESIDENT_MAX_STEP_TOKENS=7: must be at least 8"), ConfigCheck.problems(config, OptionalInt.empty()));
        assertEquals(List.of(), ConfigCheck.problems(ResidentConfigTest.read(Map.of("RESIDENT_MAX_BATCH", "8",
                "RESIDENT_MAX_STEP_TOKENS", "8")), OptionalInt.empty()));
    }

    @Test
    void aRequestWaitingForASlotOutlastsNoIdleTimeout() {
        ResidentConfig config = ResidentConfigTest.read(Map.of("RESIDENT_MAX_WAIT", "5m", "RESIDENT_IDLE_TIMEOUT", "5m"));
        assertEquals(List.of("RESIDENT_IDLE_TIMEOUT=PT5M: must be longer than RESIDENT_MAX_WAIT (PT5M), or a request still"
                + " waiting for a slot is cut off"), ConfigCheck.problems(config, OptionalInt.empty()));
        assertEquals(List.of(), ConfigCheck.problems(ResidentConfigTest.read(Map.of("RESIDENT_MAX_WAIT", "4m")),
                OptionalInt.empty()));
    }

    @Test
    void everyDeviceNameIsAccepted() {
        for (String device : List.of("auto", "cpu", "cuda", "cuda:3", "CUDA:0")) {
            assertEquals(List.of(), ConfigCheck.problems(ResidentConfigTest.read(Map.of("RESIDENT_DEVICE", device)),
                    OptionalInt.empty()), device);
        }
    }
}
