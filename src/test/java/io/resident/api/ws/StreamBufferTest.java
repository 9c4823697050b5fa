package io.resident.api.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a reply's decoded pieces become delta frames in token and semantic streaming. */
class StreamBufferTest {

    /** Feeds pieces as a decoder would produce them; returns the non-empty deltas, the final flush included. */
    private static List<String> deltas(StreamBuffer.Mode mode, String... pieces) {
        StreamBuffer buffer = new StreamBuffer(mode);
        List<String> out = new ArrayList<>();
        for (String piece : pieces) {
            String delta = buffer.push(piece);
            if (!delta.isEmpty()) {
                out.add(delta);
            }
        }
        String rest = buffer.flush();
        if (!rest.isEmpty()) {
            out.add(rest);
        }
        return out;
    }

    @Test
    void tokenModePassesEveryPieceOn() {
        assertEquals(List.of("你", "好", "，", "世界"), deltas(StreamBuffer.Mode.TOKEN, "你", "好", "，", "世界"));
        assertEquals(List.of(), deltas(StreamBuffer.Mode.TOKEN, "", ""));
    }

    @Test
    void chineseArrivesInPhrasesAtItsPunctuation() {
        // one character per token, as Chinese often decodes
        String[] pieces = "今天天气很好，我们去公园散步吧。你觉得怎么样？好！".split("");
        assertEquals(List.of("今天天气很好，", "我们去公园散步吧。", "你觉得怎么样？", "好！"),
                deltas(StreamBuffer.Mode.SEMANTIC, pieces));
    }

    @Test
    void englishArrivesAtCommasAndSentenceEnds() {
        assertEquals(List.of("Hello,", " world.", " How are you?", " Fine;", " thanks!"),
                deltas(StreamBuffer.Mode.SEMANTIC, "Hello", ",", " world", ".", " How", " are", " you", "?", " Fine",
                        ";", " thanks", "!"));
    }

    @Test
    void aPieceWithPunctuationInsideIsCutAfterThePunctuation() {
        assertEquals(List.of("好的。", "然后呢"), deltas(StreamBuffer.Mode.SEMANTIC, "好的", "。然后", "呢"));
        assertEquals(List.of("Yes,", " and no."), deltas(StreamBuffer.Mode.SEMANTIC, "Yes", ", and", " no", "."));
    }

    @Test
    void fifteenCharactersWithoutPunctuationAreSent() {
        String[] pieces = "这是一个没有任何标点符号的很长很长的句子然后继续".split("");
        List<String> deltas = deltas(StreamBuffer.Mode.SEMANTIC, pieces);
        assertEquals(List.of("这是一个没有任何标点符号的很长", "很长的句子然后继续"), deltas);
        assertEquals(15, deltas.getFirst().codePointCount(0, deltas.getFirst().length()));
        // English words: sent once 15 characters are held
        assertEquals(List.of("The quick brown", " fox jumps over", " the lazy dog"),
                deltas(StreamBuffer.Mode.SEMANTIC, "The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog"));
    }

    @Test
    void charactersAreCodePointsAndLineBreaksEndAPhrase() {
        // 15 emoji are 30 chars of UTF-16 but 15 characters
        String emoji = "😀".repeat(15);
        assertEquals(List.of(emoji, "x"), deltas(StreamBuffer.Mode.SEMANTIC, emoji, "x"));
        assertEquals(List.of("- one\n", "- two"), deltas(StreamBuffer.Mode.SEMANTIC, "- one", "\n", "- two"));
    }

    @Test
    void theEndFlushesWhatIsHeldAndNothingIsLost() {
        String[] pieces = {"混合", " text ", "和中文", "。", "Ok", "?", " 最后", "一段"};
        List<String> deltas = deltas(StreamBuffer.Mode.SEMANTIC, pieces);
        assertEquals(String.join("", pieces), String.join("", deltas));
        assertEquals(List.of("混合 text 和中文。", "Ok?", " 最后一段"), deltas);
    }
}
