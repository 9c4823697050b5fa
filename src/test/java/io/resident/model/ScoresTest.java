package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.resident.model.CausalLM.Scores;
import io.resident.model.CausalLM.Segment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scores reduced on the device agree with the same reduction of the whole logits row on the host. */
class ScoresTest {

    @Test
    void deviceReductionMatchesTheHostsAndWholeRowsComeOnlyWhenAsked() {
        try (CausalLM model = Paged.load(Fixtures.own("chatglm3-6b-tiny"), "cpu", "float32", 3, 64)) {
            int[] prompt = {64, 792, 910, 13, 790, 11, 12, 13};
            List<Scores> prefill = model.step(List.of(
                    new Segment(Paged.slot(model, 0), 0, prompt, true), new Segment(Paged.slot(model, 1), 0, prompt, false)));
            List<Scores> decode = model.step(List.of(
                    new Segment(Paged.slot(model, 0), prompt.length, new int[] {42}, false), new Segment(Paged.slot(model, 1), prompt.length, new int[] {42}, true),
                    new Segment(Paged.slot(model, 2), 0, new int[] {7}, true)));
            for (Scores[] pair : new Scores[][] {{prefill.get(0), prefill.get(1)}, {decode.get(1), decode.get(0)}}) {
                Scores full = pair[0], reduced = pair[1];
                Scores host = Scores.of(full.logits());
                assertNull(reduced.logits());
                assertEquals(host.argmax(), full.argmax());
                assertEquals(host.argmax(), reduced.argmax());
                assertEquals(host.maxLogit(), reduced.maxLogit(), 1e-5);
                assertEquals(host.logSumExp(), reduced.logSumExp(), 1e-5);
            }
            assertEquals(model.config().vocabSize(), decode.get(2).logits().length);
        }
    }
}
