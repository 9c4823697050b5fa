package io.resident.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text and tag tokens with the whitespace rules of Hugging Face's chat-template environment:
 * trim_blocks and lstrip_blocks on, "-" strips all whitespace beside a tag, "+" keeps it, one trailing newline dropped.
 */
final class Lexer {

    enum Type { TEXT, BLOCK_BEGIN, BLOCK_END, VAR_BEGIN, VAR_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Type type, String text, int pos) {
        boolean is(Type t, String s) {
            return type == t && text.equals(s);
        }
    }

    private static final String[] OPERATORS = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "(", ")",
        "[", "]", "{", "}", ".", ",", ":", "|", "=", "<", ">"};

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;

    private Lexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        src = s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    static List<Token> tokenize(String source) {
        Lexer lexer = new Lexer(source);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        boolean lineStarting = true;
        while (pos < src.length()) {
            int tag = nextTag(pos);
            if (tag < 0) {
                tokens.add(new Token(Type.TEXT, src.substring(pos), pos));
                break;
            }
            char kind = src.charAt(tag + 1);
            char sign = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
            String text = src.substring(pos, tag);
            if (sign == '-') {
                text = Py.rstrip(text);
            } else if (sign != '+' && kind != '{') {
                int lineStart = text.lastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && lineStart < text.length() && Py.isSpace(text.substring(lineStart))) {
                    text = text.substring(0, lineStart);
                }
            }
            if (!text.isEmpty()) {
                tokens.add(new Token(Type.TEXT, text, pos));
            }
            pos = tag + 2 + (sign == '-' || sign == '+' ? 1 : 0);
            boolean stripAfter;
            if (kind == '#') {
                int end = src.indexOf("#}", pos);
                if (end < 0) {
                    throw error("unclosed comment", tag);
                }
                stripAfter = end > pos && src.charAt(end - 1) == '-';
                pos = end + 2;
            } else {
                tokens.add(new Token(kind == '%' ? Type.BLOCK_BEGIN : Type.VAR_BEGIN, src.substring(tag, tag + 2), tag));
                stripAfter = expression(kind == '%' ? "%}" : "}}", tag);
                tokens.add(new Token(kind == '%' ? Type.BLOCK_END : Type.VAR_END, "", pos - 2));
            }
            if (stripAfter) {
                while (pos < src.length() && Py.isSpace(src.charAt(pos))) {
                    pos++;
                }
            } else if (kind != '{' && pos < src.length() && src.charAt(pos) == '\n') {
                pos++;
            }
            lineStarting = src.charAt(pos - 1) == '\n';
        }
        tokens.add(new Token(Type.EOF, "", src.length()));
    }

    private int nextTag(int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    /** Tokenizes a tag's inside up to its closing delimiter; true when the tag ends with "-" (strip what follows). */
    private boolean expression(String close, int tagStart) {
        int depth = 0; // open brackets: "}}" inside a dict literal closes the dict, not the tag
        while (true) {
            if (pos >= src.length()) {
                throw error("tag not closed with " + close, tagStart);
            }
            char c = src.charAt(pos);
            if (Py.isSpace(c)) {
                pos++;
            } else if (depth == 0 && src.startsWith(close, pos)) {
                pos += 2;
                return false;
            } else if (depth == 0 && c == '-' && src.startsWith(close, pos + 1)) {
                pos += 3;
                return true;
            } else if (c == '\'' || c == '"') {
                string(c);
            } else if (Character.isDigit(c)) {
                number();
            } else if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                tokens.add(new Token(Type.NAME, src.substring(start, pos), start));
            } else {
                String op = operator();
                depth += "([{".contains(op) ? 1 : ")]}".contains(op) ? -1 : 0;
            }
        }
    }

    private String operator() {
        for (String op : OPERATORS) {
            if (src.startsWith(op, pos)) {
                tokens.add(new Token(Type.OP, op, pos));
                pos += op.length();
                return op;
            }
        }
        throw error("unexpected character '" + src.charAt(pos) + "'", pos);
    }

    private void number() {
        int start = pos;
        boolean isFloat = false;
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
        }
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                pos++;
            }
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int save = pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                isFloat = true;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                    pos++;
                }
            } else {
                pos = save;
            }
        }
        tokens.add(new Token(isFloat ? Type.FLOAT : Type.INT, src.substring(start, pos).replace("_", ""), start));
    }

    private void string(char quote) {
        int start = pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= src.length()) {
                throw error("unclosed string", start);
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c != '\\' || pos >= src.length()) {
                sb.append(c);
                continue;
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case '0' -> sb.append('\0');
                case 'x' -> sb.append(hex(2));
                case 'u' -> sb.append(hex(4));
                case 'U' -> sb.appendCodePoint(Integer.parseInt(hexDigits(8), 16));
                case '\\', '\'', '"' -> sb.append(e);
                case '\n' -> { } // a backslash-newline continues the line
                default -> sb.append('\\').append(e);
            }
        }
        tokens.add(new Token(Type.STRING, sb.toString(), start));
    }

    private char hex(int digits) {
        return (char) Integer.parseInt(hexDigits(digits), 16);
    }

    private String hexDigits(int digits) {
        if (pos + digits > src.length()) {
            throw error("bad escape", pos);
        }
        String h = src.substring(pos, pos + digits);
        pos += digits;
        return h;
    }

    private TemplateException error(String message, int at) {
        return new TemplateException(message + " at line " + (src.substring(0, Math.min(at, src.length())).chars().filter(c -> c == '\n').count() + 1));
    }
}
