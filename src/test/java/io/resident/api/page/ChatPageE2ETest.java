package io.resident.api.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.chat.ChatSessions;
import io.resident.engine.ModelHolder;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * The chat page in a real headless chromium against the app serving the demo model: one browser run (src/test/e2e,
 * about 15 s) whose observations each test reads. Screenshots land in target/e2e.
 */
@QuarkusTest
class ChatPageE2ETest {

    private static final String CHINESE = "你好！请用三句话介绍一下 JVM。";
    private static final PageBrowser.Suite SUITE = new PageBrowser.Suite("open");

    @TestHTTPResource("/")
    URI base;

    @Inject
    ModelHolder holder;

    @Inject
    ChatSessions sessions;

    private JsonNode scenario(String name) throws IOException, InterruptedException {
        return SUITE.scenario(base, null, name);
    }

    @Test
    void sidebarShowsTheModelTheControlsAndTheConnection() throws Exception {
        JsonNode sidebar = scenario("sidebar");
        assertEquals("resident-demo", sidebar.get("model").asText());
        assertEquals("cpu · float32", sidebar.get("device").asText());
        assertEquals(String.format("%,d tokens", holder.served().maxContext()), sidebar.get("context").asText());
        assertEquals("none: the model runs on the CPU", sidebar.get("gpu").asText());
        assertEquals("0 of " + holder.served().engine().slots() + " slots busy", sidebar.get("load").asText());
        assertEquals("0.8", sidebar.get("temperature").asText(), "the controls start at the demo's sampling default");
        assertEquals("1024", sidebar.get("maxTokens").asText());
        assertEquals("connected", sidebar.get("connection").asText());
        assertTrue(sidebar.get("infoRequests").asInt() >= 1);
    }

    @Test
    void demoModelIsAnnouncedAsNoise() throws Exception {
        JsonNode sidebar = scenario("sidebar");
        assertTrue(sidebar.get("demoBanner").asBoolean(), "the demo banner is visible");
        String banner = sidebar.get("demoText").asText().replaceAll("\\s+", " ");
        assertTrue(banner.contains("random weights") && banner.contains("Its replies are noise"), banner);
    }

    @Test
    void replyStreamsInSeveralUpdatesWithACursorThatGoesAtTheEnd() throws Exception {
        JsonNode stream = scenario("stream");
        assertTrue(stream.get("deltaFrames").asInt() >= 3, "delta frames: " + stream.get("deltaFrames"));
        List<Integer> lengths = new ArrayList<>();
        for (JsonNode state : stream.get("states")) {
            if (state.get("state").asText().equals("streaming")) {
                assertTrue(state.get("cursor").asBoolean(), "the cursor shows while the reply streams: " + state);
                if (lengths.isEmpty() || lengths.getLast() != state.get("length").asInt()) {
                    lengths.add(state.get("length").asInt());
                }
            }
        }
        assertTrue(lengths.size() >= 4, "the text grew in several steps: " + lengths);
        assertEquals(0, stream.get("cursors").asInt(), "no cursor once the reply is done");
        assertTrue(stream.get("infoAfterDone").asBoolean(), "the Load line is asked for again as the reply ends");
        assertEquals("length", stream.get("state").asText());
        assertTrue(stream.get("meta").asText().startsWith("40 tokens · ") && stream.get("meta").asText().endsWith("(length)"),
                stream.get("meta").asText());
    }

    @Test
    void controlsAreSentAsChatOptions() throws Exception {
        JsonNode stream = scenario("stream");
        JsonNode chat = stream.get("chatFrame");
        assertEquals(CHINESE, chat.get("content").asText());
        assertEquals(1.0, chat.get("options").get("temperature").asDouble());
        assertEquals(40, chat.get("options").get("max_tokens").asInt());
        assertEquals(40, stream.get("done").get("usage").get("completionTokens").asInt());
        assertEquals("memory: 2 of 20 messages", stream.get("memory").asText());
    }

    @Test
    void chineseIsDrawnWithACjkFont() throws Exception {
        JsonNode stream = scenario("stream");
        assertTrue(stream.get("fontFamily").asText().contains("\"Noto Sans CJK SC\", \"Source Han Sans SC\", \"PingFang SC\""),
                stream.get("fontFamily").asText());
        long han = CHINESE.codePoints().filter(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN).count();
        JsonNode cjk = StreamSupport.stream(stream.get("userFonts").spliterator(), false)
                .filter(font -> font.get("family").asText().startsWith("Noto Sans CJK")).findFirst().orElseThrow(
                        () -> new AssertionError("no CJK font drew the Chinese text: " + stream.get("userFonts")));
        assertTrue(cjk.get("glyphs").asInt() >= han, "every Han character came from the CJK font: " + stream.get("userFonts"));
    }

    @Test
    void refreshResumesTheConversation() throws Exception {
        JsonNode stream = scenario("stream");
        JsonNode resume = scenario("resume");
        assertEquals(resume.get("before"), resume.get("after"), "the same bubbles after the refresh");
        assertEquals(2, resume.get("after").size());
        JsonNode session = resume.get("sessionFrame");
        assertTrue(session.get("resumed").asBoolean());
        assertEquals(resume.get("sessionBefore").asText(), session.get("sessionId").asText());
        assertEquals(CHINESE, session.get("messages").get(0).get("content").asText());
        assertEquals(stream.get("deltaText").asText(), session.get("messages").get(1).get("content").asText(),
                "the server remembers exactly the streamed reply");
        assertEquals("connected · session resumed", resume.get("connection").asText());
        assertEquals("memory: 2 of 20 messages", resume.get("memory").asText());
        assertEquals(resume.get("metasBefore"), resume.get("metasAfter"), "the reply keeps its timing line");
        assertTrue(resume.get("metasAfter").get(0).get("text").asText().startsWith("40 tokens · "), resume.get("metasAfter").toString());
    }

    @Test
    void stopCancelsTheReplyAndKeepsWhatCame() throws Exception {
        JsonNode stop = scenario("stop");
        assertTrue(stop.get("stopVisible").asBoolean(), "the stop button shows while a reply streams");
        assertTrue(stop.get("cancelFrame").asBoolean(), "stop sends a cancel frame");
        assertEquals("cancelled", stop.get("done").get("finishReason").asText());
        assertTrue(stop.get("done").get("usage").get("completionTokens").asInt() < 3000);
        assertEquals("cancelled", stop.get("state").asText());
        assertTrue(stop.get("meta").asText().endsWith("stopped (cancelled)"), stop.get("meta").asText());
        assertTrue(stop.get("sendVisibleAfter").asBoolean());
        assertEquals("memory: 4 of 20 messages", stop.get("memory").asText(), "the partial reply stays in memory");
        JsonNode last = stop.get("bubbles").get(3);
        assertEquals("assistant", last.get("role").asText());
        assertFalse(last.get("text").asText().isEmpty());
        assertEquals(stop.get("metasBefore"), stop.get("metasAfter"), "after a refresh both replies keep their lines");
        assertEquals("meta cancelled", stop.get("metasAfter").get(1).get("className").asText(), "and the cancelled mark");
    }

    @Test
    void onAPhoneTheMessageBoxStaysInViewAndTheSidebarOpensFromAButton() throws Exception {
        JsonNode phone = scenario("phone");
        JsonNode start = phone.get("atStart");
        assertTrue(start.get("input").asBoolean() && start.get("send").asBoolean(), "message box in view: " + start);
        assertFalse(start.get("sidebar").asBoolean(), "the sidebar is folded away");
        assertTrue(start.get("toggle").asBoolean(), "its button is in view");
        JsonNode chatted = phone.get("afterReplies");
        assertTrue(chatted.get("input").asBoolean() && chatted.get("send").asBoolean(), "still in view after replies: " + chatted);
        assertTrue(chatted.get("lastReply").asBoolean(), "the last reply scrolled into view: " + chatted);
        JsonNode opened = phone.get("opened");
        assertTrue(opened.get("sidebar").asBoolean() && opened.get("model").asBoolean(), "the button opens the sidebar: " + opened);
        assertEquals("true", opened.get("expanded").asText());
        JsonNode closed = phone.get("closed");
        assertFalse(closed.get("sidebar").asBoolean());
        assertTrue(closed.get("input").asBoolean());
        assertEquals(0, phone.get("errors").size(), phone.get("errors").toString());
    }

    @Test
    void clearEmptiesTheHistoryOnTheServerToo() throws Exception {
        JsonNode clear = scenario("clear");
        assertEquals(0, clear.get("reset").get("memoryMessages").asInt());
        assertEquals("memory: 0 of 20 messages", clear.get("memory").asText());
        assertEquals(0, clear.get("afterReload").size(), "a refresh after clear shows no messages");
        assertTrue(clear.get("emptyShown").asBoolean());
        String id = scenario("resume").get("sessionBefore").asText();
        assertEquals(0, sessions.find(id).orElseThrow().size());
    }

    @Test
    void systemPromptIsSetAndShownAgainAfterARefresh() throws Exception {
        JsonNode system = scenario("system");
        assertEquals("Answer in one word.", system.get("frame").get("systemPrompt").asText());
        assertEquals("System prompt set: it applies from the next message on.", system.get("notice").asText());
        assertEquals("Answer in one word.", system.get("afterReload").asText(), "the session frame brings it back");
        assertEquals("memory: 0 of 20 messages", system.get("memory").asText(), "kept outside the message window");
    }

    @Test
    void aSessionTheServerNoLongerHoldsStartsANewOneAndSaysSo() throws Exception {
        JsonNode expired = scenario("expired");
        assertTrue(texts(expired.get("sockets")).getFirst().endsWith("/ws/chat?session=gone-since-yesterday"));
        assertFalse(expired.get("sessionFrame").get("resumed").asBoolean());
        assertEquals(expired.get("sessionFrame").get("sessionId").asText(), expired.get("session").asText(),
                "the new session's id replaces the old one");
        assertTrue(expired.get("noticeShown").asBoolean());
        assertTrue(expired.get("notice").asText().startsWith("The server no longer held the earlier conversation"),
                expired.get("notice").asText());
    }

    @Test
    void htmlInRepliesAndMessagesStaysText() throws Exception {
        JsonNode xss = scenario("xss");
        assertTrue(xss.get("rewritten").asBoolean(), "the reply carried the HTML");
        assertTrue(xss.get("pwned").isNull(), "no script of the reply ran: " + xss.get("pwned"));
        String reply = xss.get("replyText").asText();
        assertTrue(reply.contains("<script>window.pwned = \"script\"</script><img src=x onerror=\"window.pwned = 'img'\">"), reply);
        for (JsonNode tag : xss.get("replyElements")) {
            assertFalse(List.of("script", "img", "svg", "iframe").contains(tag.asText()), "the reply made a " + tag + " element");
        }
        assertEquals(List.of("https://example.org/"), texts(xss.get("links")), "javascript: links are not made");
        assertEquals("bold", xss.get("strong").asText(), "Markdown still renders");
        assertEquals("<b onclick=\"x()\">code</b>", xss.get("code").asText());
        assertEquals("<img src=x onerror=\"window.pwned = 'user'\"><b>not bold</b>", xss.get("userText").asText());
        assertEquals(0, xss.get("userElements").asInt());
        assertEquals(0, xss.get("errors").size(), xss.get("errors").toString());
    }

    @Test
    void markdownAndCodeBlocksRender() throws Exception {
        JsonNode md = scenario("markdown");
        assertEquals(1, md.get("h2").asInt());
        assertEquals(3, md.get("ol").asInt());
        assertEquals(1, md.get("nested").asInt());
        assertEquals(1, md.get("code").asInt());
        assertEquals(4, md.get("table").asInt());
        assertEquals(1, md.get("blockquote").asInt());
        assertEquals(1, md.get("links").asInt());
        assertEquals(1, md.get("inlineCode").asInt());
    }

    @Test
    void droppedConnectionReconnectsAndResumes() throws Exception {
        JsonNode rc = scenario("reconnect");
        assertTrue(rc.get("reconnecting").asText().startsWith("disconnected; reconnecting in"), rc.get("reconnecting").asText());
        assertEquals(2, rc.get("routes").asInt(), "one new connection");
        JsonNode opened = rc.get("sessions");
        assertEquals(2, opened.size());
        assertFalse(opened.get(0).get("resumed").asBoolean());
        assertTrue(opened.get(1).get("resumed").asBoolean());
        assertEquals(opened.get(0).get("id"), opened.get(1).get("id"));
        assertEquals(rc.get("before"), rc.get("after"));
        assertEquals("connected · session resumed", rc.get("connection").asText());
    }

    @Test
    void aSecondTabWithTheSessionTakesItOverWithoutAFight() throws Exception {
        JsonNode takeover = scenario("takeover");
        assertTrue(takeover.get("sameSession").asBoolean());
        assertEquals("connected", takeover.get("secondState").asText());
        assertEquals("closed", takeover.get("firstState").asText(), "the first tab does not reconnect by itself");
        assertEquals("this conversation continues in another tab", takeover.get("firstText").asText());
        assertTrue(takeover.get("reconnectButton").asBoolean());
    }

    @Test
    void gpuMemoryAboveNinetyPercentShowsAWarning() throws Exception {
        JsonNode gpu = scenario("gpuWarning");
        assertEquals("134.0 of 141.0 GiB (95.0%)", gpu.get("memory").asText());
        assertTrue(gpu.get("warning").asText().startsWith("GPU memory is 95.0% full"), gpu.get("warning").asText());
        assertTrue(gpu.get("meterWarn").asBoolean());
    }

    @Test
    void pageRaisedNoErrorsAndLeftScreenshots() throws Exception {
        scenario("sidebar");
        JsonNode errors = SUITE.report().get("errors");
        assertEquals(0, errors.size(), errors.toString());
        for (String shot : List.of("streaming", "streamed", "resumed", "stopped", "cleared", "xss", "markdown", "narrow",
                "reconnecting", "taken-over", "gpu-warning")) {
            assertTrue(Files.size(PageBrowser.OUT.resolve(shot + ".png")) > 10_000, shot + ".png");
        }
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
