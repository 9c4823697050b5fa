package io.resident.grammar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.engine.DemoModel;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Grammars and token masks over Qwen3's real vocabulary: outputs drawn at random among the allowed tokens are
 * valid for their schema (checked by a JSON-schema validator), whatever the draw.
 */
class GrammarTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Tokenizer tokenizer;
    private static TokenTrie trie;
    /** Tokens that hold a quote or a closing bracket, or end the output. */
    private static boolean[] CLOSING;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizers.load(DemoModel.tokenizerDirectory());
        trie = new TokenTrie(tokenizer, tokenizer.vocabularySize());
        CLOSING = new boolean[trie.vocabSize()];
        for (int id = 0; id < CLOSING.length; id++) {
            byte[] bytes = trie.bytes(id);
            if (bytes == null) {
                CLOSING[id] = true;
            }
            for (int i = 0; bytes != null && i < bytes.length; i++) {
                CLOSING[id] |= bytes[i] == '"' || bytes[i] == ']' || bytes[i] == '}';
            }
        }
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void tokenBytesJoinToTheTextIncludingSplitCharacters() {
        String text = "héllo 世界 🎉 {\"a\": [1, 2.5]}\n";
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int id : tokenizer.encode(text)) {
            joined.writeBytes(tokenizer.tokenBytes(id));
        }
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), joined.toByteArray());
        int imEnd = tokenizer.encode("x")[0] >= 0 ? tokenizer.stopIds().iterator().next() : -1;
        assertNull(tokenizer.tokenBytes(imEnd), "special tokens have no bytes");
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomDrawsAlwaysGiveJsonTheSchemaAccepts(long seed) throws Exception {
        JsonNode schema = Schemas.everyFeature();
        String out = draw(Grammar.json(JsonSchema.compile(schema)), seed);
        Schemas.assertValid(schema, out);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void jsonObjectModeGivesAnObject(long seed) throws Exception {
        String out = draw(Grammar.json(JsonSchema.anyObject()), seed);
        assertTrue(JSON.readTree(out).isObject(), out);
    }

    @Test
    void aToolCallIsLiteralTextAroundArgumentsOfItsSchema() throws Exception {
        JsonNode params = JSON.readTree("""
                {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
                 "required": ["city", "days"], "additionalProperties": false}""");
        Grammar call = Grammar.sequence(Grammar.literal("<tool_call>\n{\"name\": \"weather\", \"arguments\": "),
                Grammar.json(JsonSchema.compile(params)), Grammar.literal("}\n</tool_call>"));
        Grammar other = Grammar.sequence(Grammar.literal("<tool_call>\n{\"name\": \"time\", \"arguments\": "),
                Grammar.json(JsonSchema.compile(JSON.readTree("{\"type\": \"object\", \"properties\": {}, \"additionalProperties\": false}"))),
                Grammar.literal("}\n</tool_call>"));
        Grammar calls = Grammar.repeat(Grammar.choice(call, other), Grammar.literal("\n"), 1, 3);
        for (long seed = 1; seed <= 4; seed++) {
            String out = draw(calls, seed);
            String[] parts = out.split("\n(?=<tool_call>)");
            assertTrue(parts.length >= 1 && parts.length <= 3, out);
            for (String part : parts) {
                assertTrue(part.startsWith("<tool_call>\n{\"name\": \"") && part.endsWith("}\n</tool_call>"), out);
                JsonNode body = JSON.readTree(part.substring("<tool_call>\n".length(), part.length() - "\n</tool_call>".length()));
                if (body.get("name").asText().equals("weather")) {
                    Schemas.assertValid(params, body.get("arguments").toString());
                } else {
                    assertEquals("{}", body.get("arguments").toString());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 12, 40})
    void aTightBudgetStillClosesTheJsonValidly(int slack) throws Exception {
        JsonNode nested = Schemas.nestedRequired();
        JsonNode params = Schemas.read("{\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}, \"required\": [\"q\"]}");
        Grammar call = Grammar.sequence(Grammar.literal("<tool_call>\n{\"name\": \"search\", \"arguments\": "),
                Grammar.json(JsonSchema.compile(params)), Grammar.literal("}\n</tool_call>"));
        for (long seed = 1; seed <= 3; seed++) {
            for (JsonNode schema : new JsonNode[] {nested, Schemas.everyFeature()}) {
                Grammar grammar = Grammar.json(JsonSchema.compile(schema));
                Schemas.assertValid(schema, draw(grammar, seed, grammar.shortest() + slack, false));
            }
            Grammar object = Grammar.json(JsonSchema.anyObject());
            assertTrue(JSON.readTree(draw(object, seed, object.shortest() + slack, false)).isObject());
            String out = draw(call, seed, call.shortest() + slack, false);
            JsonNode body = JSON.readTree(out.substring(out.indexOf('{'), out.lastIndexOf('}') + 1));
            Schemas.assertValid(params, body.get("arguments").toString());
        }
    }

    @Test
    void theShortestOutputIsMeasured() throws Exception {
        assertEquals(2, Grammar.json(JsonSchema.anyObject()).shortest());
        String shortest = "{\"user\":{\"name\":\"\",\"tags\":[\"\"]},\"id\":0,\"note\":\"abc\"}";
        assertEquals(shortest.length(), Grammar.json(JsonSchema.compile(Schemas.nestedRequired())).shortest());
        Pos pos = Grammar.json(JsonSchema.compile(Schemas.nestedRequired())).start();
        for (byte b : "{\"user\": {\"name\": \"ab".getBytes(StandardCharsets.UTF_8)) {
            pos = pos.feed(b);
        }
        assertEquals("\",\"tags\":[\"\"]},\"id\":0,\"note\":\"abc\"}".length(), pos.shortest());
        JsonNode recursive = Schemas.read("""
                {"$defs": {"node": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
                 "required": ["next"]}}, "$ref": "#/$defs/node"}""");
        assertEquals("{\"next\":null}".length(), Grammar.json(JsonSchema.compile(recursive)).shortest());
    }

    /** Masks of one schema are computed on several threads at once: each measures what another may just have measured. */
    @Test
    void theShortestOutputIsMeasuredOnManyThreadsAtOnce() throws Exception {
        String shortest = "{\"user\":{\"name\":\"\",\"tags\":[\"\"]},\"id\":0,\"note\":\"abc\"}";
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 50; round++) {
                Pos start = Grammar.json(JsonSchema.compile(Schemas.nestedRequired())).start();
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Integer>> lengths = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    lengths.add(threads.submit(() -> {
                        go.await();
                        return start.shortest();
                    }));
                }
                go.countDown();
                for (Future<Integer> length : lengths) {
                    assertEquals(shortest.length(), length.get());
                }
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void whitespaceBetweenTokensIsBounded() {
        Pos pos = Grammar.json(JsonSchema.anyObject()).start().feed('{');
        for (int i = 0; i < Pos.MAX_WHITESPACE; i++) {
            pos = pos.feed(' ');
            assertNotNull(pos);
        }
        assertNull(pos.feed(' '));
        assertNotNull(pos.feed('}'));
        assertTrue(pos.feed('}').canEnd());
    }

    @Test
    void theOutputEndsWhereTheJsonCloses() {
        Constraint c = new Constraint(Grammar.json(JsonSchema.anyObject()), trie, 16);
        advance(c, "{}");
        assertTrue(c.finished());
    }

    @Test
    void boundsAreCheckedWhileTheNumberIsWritten() throws Exception {
        Pos start = Grammar.json(JsonSchema.compile(JSON.readTree("{\"type\": \"integer\", \"minimum\": 10, \"maximum\": 20}"))).start();
        assertNull(start.feed('-'));
        assertNull(start.feed('0'));
        assertNull(start.feed('3'));
        Pos two = start.feed('2');
        assertNotNull(two);
        assertFalse(two.canEnd());
        assertNull(two.feed('1'));
        assertTrue(two.feed('0').canEnd());
        Pos exclusive = Grammar.json(JsonSchema.compile(JSON.readTree("{\"type\": \"number\", \"exclusiveMinimum\": 0, \"maximum\": 1}"))).start();
        assertFalse(exclusive.feed('0').canEnd());
        assertTrue(exclusive.feed('1').canEnd());
        assertNull(exclusive.feed('1').feed('.').feed('5'));
    }

    @Test
    void aPatternIsMatchedCharacterByCharacter() throws Exception {
        Pos pos = Grammar.json(JsonSchema.compile(JSON.readTree("{\"type\": \"string\", \"pattern\": \"^a[0-9]+$\"}"))).start();
        pos = pos.feed('"');
        assertNull(pos.feed('b'));
        assertNull(pos.feed(0xC3), "no character from a two-byte UTF-8 sequence can match");
        pos = pos.feed('a');
        assertNull(pos.feed('"'), "a alone does not match");
        assertTrue(pos.feed('7').feed('"').canEnd());
    }

    @ParameterizedTest
    @ValueSource(strings = {"uniqueItems", "oneOf", "not", "patternProperties", "multipleOf", "minProperties", "prefixItems", "if"})
    void unsupportedKeywordsAreRefusedByName(String keyword) throws Exception {
        JsonNode schema = JSON.readTree("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"array\", \"" + keyword + "\": []}}}");
        SchemaException e = assertThrows(SchemaException.class, () -> JsonSchema.compile(schema));
        assertEquals(keyword, e.keyword());
        assertEquals("/properties/a/" + keyword, e.pointer());
        assertTrue(e.getMessage().contains("'" + keyword + "'"), e.getMessage());
    }

    @Test
    void unusablePatternsAndRefsAreRefused() throws Exception {
        assertEquals("pattern", assertThrows(SchemaException.class, () -> JsonSchema.compile(
                JSON.readTree("{\"type\": \"string\", \"pattern\": \"(a)\\\\1\"}"))).keyword());
        assertEquals("$ref", assertThrows(SchemaException.class, () -> JsonSchema.compile(
                JSON.readTree("{\"$ref\": \"https://example.com/s.json\"}"))).keyword());
        assertEquals("format", assertThrows(SchemaException.class, () -> JsonSchema.compile(
                JSON.readTree("{\"type\": \"string\", \"format\": \"hostname\"}"))).keyword());
    }

    /** A random-weight model: each step draws among the allowed tokens, now and then preferring ones that close. */
    static String draw(Grammar grammar, long seed) {
        return draw(grammar, seed, 2000, true);
    }

    /** Draws until the output is finished, within {@code budget} tokens; never prefers closing unless told to. */
    static String draw(Grammar grammar, long seed, int budget, boolean preferClosing) {
        Random random = new Random(seed);
        Constraint c = new Constraint(grammar, trie, budget);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] allowed = new int[trie.vocabSize()];
        int[] closing = new int[trie.vocabSize()];
        for (int step = 0; step < budget && !c.finished(); step++) {
            int nAllowed = 0, nClosing = 0;
            long[] bits = c.allowed();
            for (int w = 0; w < bits.length; w++) {
                for (long b = bits[w]; b != 0; b &= b - 1) {
                    int id = w * 64 + Long.numberOfTrailingZeros(b);
                    allowed[nAllowed++] = id;
                    if (CLOSING[id]) {
                        closing[nClosing++] = id;
                    }
                }
            }
            boolean close = preferClosing && nClosing > 0 && random.nextInt(4) == 0;
            int id = close ? closing[random.nextInt(nClosing)] : allowed[random.nextInt(nAllowed)];
            c.advance(id);
            if (trie.bytes(id) != null) {
                out.writeBytes(trie.bytes(id));
            }
        }
        assertTrue(c.finished(), "unfinished after " + budget + " tokens: " + out);
        return out.toString(StandardCharsets.UTF_8);
    }

    static void advance(Constraint c, String text) {
        for (int id : tokenizer.encode(text)) {
            c.advance(id);
        }
    }
}
