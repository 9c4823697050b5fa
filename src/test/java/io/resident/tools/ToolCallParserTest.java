package io.resident.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.resident.tools.ToolCallParser.Arguments;
import io.resident.tools.ToolCallParser.Call;
import io.resident.tools.ToolCallParser.Content;
import io.resident.tools.ToolCallParser.Opened;
import io.resident.tools.ToolCallParser.Piece;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each format's calls read out of a reply that arrives in pieces of any size, and what is no call kept as text. */
class ToolCallParserTest {

    private static final Set<String> TOOLS = Set.of("get_weather", "local_time");

    @Test
    void qwenTextThenTwoCallsInPiecesOfEverySize() {
        String reply = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"local_time\", \"arguments\": {\"zone\": \"Europe/Paris\"}}\n</tool_call>";
        for (int size = 1; size <= reply.length(); size++) {
            List<Piece> pieces = read(ToolFormat.TAGGED_JSON, reply, size);
            assertEquals(List.of(new Content("Let me check."), new Call("get_weather", "{\"city\":\"Paris\"}"),
                    new Call("local_time", "{\"zone\":\"Europe/Paris\"}")), pieces, "pieces of " + size);
        }
    }

    @Test
    void aCallOpensWithItsNameAndItsArgumentsFollowAsTheyAreWritten() {
        ToolCallParser parser = ToolCallParser.of(ToolFormat.TAGGED_JSON, TOOLS);
        assertEquals(List.of(), parser.push("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "));
        assertEquals(List.of(new Opened("get_weather"), new Arguments("{\"city\":")), parser.push("{\"city\": "));
        assertEquals(List.of(new Arguments("\"Par")), parser.push("\"Par"));
        assertEquals(List.of(new Arguments("is \\\" }\",\"days\":2}")), parser.push("is \\\" }\", \"days\": 2}"));
        assertEquals(List.of(), parser.push("}\n</tool_call>"), "the arguments closed at their own brace");
        assertEquals(List.of(), parser.finish());
        // a call whose arguments come first can only be read whole
        assertEquals(List.of(), parser.push("<tool_call>{\"arguments\": {}, "));
        assertEquals(List.of(new Call("local_time", "{}")), parser.push("\"name\": \"local_time\"}</tool_call>"));
    }

    @Test
    void textStreamsAsItComesAndOnlyAPossibleMarkerWaits() {
        ToolCallParser parser = ToolCallParser.of(ToolFormat.TAGGED_JSON, TOOLS);
        assertEquals(List.of(new Content("It is")), parser.push("It is"));
        assertEquals(List.of(), parser.push(" <tool"), "may open a call");
        assertEquals(List.of(new Content(" <tools> are")), parser.push("s> are"));
        assertEquals(List.of(new Content(" sunny.")), parser.push(" sunny."));
        assertEquals(List.of(), parser.finish());
    }

    @Test
    void aCallThatIsNotJsonComesBackAsTheTextItWas() {
        String reply = "<tool_call>\n{\"name\": get_weather}\n</tool_call>";
        assertEquals(List.of(new Content(reply)), read(ToolFormat.TAGGED_JSON, reply, 3));
        String open = "<tool_call>\n{\"name\": \"get_weather\", \"argu";
        assertEquals(List.of(new Content(open)), read(ToolFormat.TAGGED_JSON, open, 5), "cut short by max_tokens");
    }

    @Test
    void qwenCallWithArgumentsAsAStringOrNone() {
        assertEquals(List.of(new Call("get_weather", "{\"city\":\"Oslo\"}")), read(ToolFormat.TAGGED_JSON,
                "<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Oslo\\\"}\"}</tool_call>", 7));
        assertEquals(List.of(new Call("local_time", "{}")), read(ToolFormat.TAGGED_JSON,
                "<tool_call>{\"name\": \"local_time\"}</tool_call>", 7));
    }

    @Test
    void llamaReplyThatIsJsonIsACallAndOtherwiseText() {
        assertEquals(List.of(new Call("get_weather", "{\"city\":\"Rome\"}")), read(ToolFormat.BARE_JSON,
                " {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}", 4));
        assertEquals(List.of(new Call("get_weather", "{\"city\":\"Rome\"}"), new Call("local_time", "{\"zone\":\"CET\"}")),
                read(ToolFormat.BARE_JSON, "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}; "
                        + "{\"name\": \"local_time\", \"parameters\": {\"zone\": \"CET\"}}", 4));
        assertEquals(List.of(new Content("{braces} are not a call")), read(ToolFormat.BARE_JSON, "{braces} are not a call", 4));
        assertEquals(List.of(new Content("Sure: {\"name\": 1}")), read(ToolFormat.BARE_JSON, "Sure: {\"name\": 1}", 4));
    }

    @Test
    void mistralCallsFollowTheMarker() {
        assertEquals(List.of(new Call("get_weather", "{\"city\":\"Nice\"}"), new Call("local_time", "{}")),
                read(ToolFormat.MISTRAL, "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Nice\"}, \"id\": \"abcdefghi\"}, "
                        + "{\"name\": \"local_time\", \"arguments\": {}}]", 6));
    }

    @Test
    void chatGlm3CallNeedsAToolNameOnItsFirstLine() {
        assertEquals(List.of(new Call("get_weather", "{\"city\":\"北京\",\"days\":3,\"hourly\":false,\"tags\":[\"a\",null]}")),
                read(ToolFormat.CHATGLM3, "get_weather\n```python\ntool_call(city='北京', days=3, hourly=False, tags=('a', None))\n```", 3));
        assertEquals(List.of(new Content("weather\nis fine")), read(ToolFormat.CHATGLM3, "weather\nis fine", 3));
        String broken = "get_weather\n```python\nprint('hi')\n```";
        assertEquals(List.of(new Content(broken)), read(ToolFormat.CHATGLM3, broken, 3));
    }

    @Test
    void pythonKeywordArgumentsReadAsJson() {
        assertEquals("{\"s\":\"it's \\\"q\\\"\\n\",\"n\":-1500.0,\"d\":{\"k\":[1,2]},\"t\":true}",
                PythonLiterals.keywordArguments("s=\"it's \\\"q\\\"\\n\", n=-1.5e3, d={'k': [1, 2]}, t=True,").toString());
        assertThrows(IllegalArgumentException.class, () -> PythonLiterals.keywordArguments("city=paris"));
        assertThrows(IllegalArgumentException.class, () -> PythonLiterals.keywordArguments("'x'"));
    }

    /** The reply pushed in pieces of the given size, then finished, as a reader sees it whole. */
    private static List<Piece> read(ToolFormat format, String reply, int size) {
        ToolCallParser parser = ToolCallParser.of(format, TOOLS);
        List<Piece> pieces = new ArrayList<>();
        for (int i = 0; i < reply.length(); i += size) {
            pieces.addAll(parser.push(reply.substring(i, Math.min(reply.length(), i + size))));
        }
        pieces.addAll(parser.finish());
        return Pieces.joined(pieces);
    }
}
