package io.resident.tokenizer.jinja;

import io.resident.tokenizer.jinja.Lexer.Token;
import io.resident.tokenizer.jinja.Lexer.Type;
import io.resident.tokenizer.jinja.Node.Expr;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Recursive-descent parser for the statements and expressions of Jinja2, with Jinja2's operator precedence. */
final class Parser {

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", ">", "<=", ">=");

    private final List<Token> tokens;
    private int i;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source) {
        Parser p = new Parser(Lexer.tokenize(source));
        List<Node> body = p.body(Set.of());
        if (p.peek().type() != Type.EOF) {
            throw p.error("unexpected '" + p.peek().text() + "'");
        }
        return body;
    }

    /** Statements up to a block tag whose name is in {@code ends} (left unconsumed) or the end of the template. */
    private List<Node> body(Set<String> ends) {
        List<Node> nodes = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.type()) {
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw error("missing {% " + String.join(" / ", new java.util.TreeSet<>(ends)) + " %}");
                    }
                    return nodes;
                }
                case TEXT -> {
                    i++;
                    nodes.add(new Node.Text(t.text()));
                }
                case VAR_BEGIN -> {
                    i++;
                    nodes.add(new Node.Output(expression()));
                    expect(Type.VAR_END);
                }
                case BLOCK_BEGIN -> {
                    String name = tokens.get(i + 1).text();
                    if (ends.contains(name)) {
                        return nodes;
                    }
                    i += 2;
                    nodes.add(statement(name));
                }
                default -> throw error("unexpected '" + t.text() + "'");
            }
        }
    }

    private Node statement(String name) {
        switch (name) {
            case "if" -> {
                List<Expr> conditions = new ArrayList<>();
                List<List<Node>> bodies = new ArrayList<>();
                conditions.add(expression());
                expect(Type.BLOCK_END);
                bodies.add(body(Set.of("elif", "else", "endif")));
                List<Node> orElse = List.of();
                while (true) {
                    String tag = endTag();
                    if (tag.equals("elif")) {
                        conditions.add(expression());
                        expect(Type.BLOCK_END);
                        bodies.add(body(Set.of("elif", "else", "endif")));
                    } else if (tag.equals("else")) {
                        expect(Type.BLOCK_END);
                        orElse = body(Set.of("endif"));
                        endTag();
                        expect(Type.BLOCK_END);
                        break;
                    } else {
                        expect(Type.BLOCK_END);
                        break;
                    }
                }
                return new Node.If(conditions, bodies, orElse);
            }
            case "for" -> {
                List<String> targets = new ArrayList<>();
                do {
                    targets.add(name());
                } while (accept(Type.OP, ","));
                expectName("in");
                Expr iterable = condOrPlain(false);
                Expr filter = acceptName("if") ? condOrPlain(false) : null;
                expect(Type.BLOCK_END);
                List<Node> body = body(Set.of("else", "endfor"));
                List<Node> orElse = List.of();
                if (endTag().equals("else")) {
                    expect(Type.BLOCK_END);
                    orElse = body(Set.of("endfor"));
                    endTag();
                }
                expect(Type.BLOCK_END);
                return new Node.For(targets, iterable, filter, body, orElse);
            }
            case "set" -> {
                List<String> targets = new ArrayList<>();
                targets.add(name());
                String attribute = null;
                if (accept(Type.OP, ".")) {
                    attribute = name();
                } else {
                    while (accept(Type.OP, ",")) {
                        targets.add(name());
                    }
                }
                if (peek().type() == Type.BLOCK_END && attribute == null && targets.size() == 1) {
                    i++;
                    List<Node> body = body(Set.of("endset"));
                    endTag();
                    expect(Type.BLOCK_END);
                    return new Node.SetBlock(targets.get(0), body);
                }
                expect(Type.OP, "=");
                Expr value = expression();
                expect(Type.BLOCK_END);
                return new Node.Set(targets, attribute, value);
            }
            case "break", "continue" -> {
                expect(Type.BLOCK_END);
                return name.equals("break") ? new Node.Break() : new Node.Continue();
            }
            case "generation" -> {
                // Hugging Face's marker for assistant-token masks: rendering only needs its body
                expect(Type.BLOCK_END);
                List<Node> body = body(Set.of("endgeneration"));
                endTag();
                expect(Type.BLOCK_END);
                return new Node.If(List.of(new Node.Literal(true)), List.of(body), List.of());
            }
            default -> throw error("unsupported tag {% " + name + " %}");
        }
    }

    /** Consumes "{%" name of an end/else tag and returns the name. */
    private String endTag() {
        expect(Type.BLOCK_BEGIN);
        return name();
    }

    Expr expression() {
        return condOrPlain(true);
    }

    private Expr condOrPlain(boolean withCondition) {
        Expr e = or();
        while (withCondition && acceptName("if")) {
            Expr condition = or();
            Expr orElse = acceptName("else") ? condOrPlain(true) : null;
            e = new Node.Conditional(condition, e, orElse);
        }
        return e;
    }

    private Expr or() {
        Expr e = and();
        while (acceptName("or")) {
            e = new Node.Binary("or", e, and());
        }
        return e;
    }

    private Expr and() {
        Expr e = not();
        while (acceptName("and")) {
            e = new Node.Binary("and", e, not());
        }
        return e;
    }

    private Expr not() {
        if (acceptName("not")) {
            return new Node.Unary("not", not());
        }
        return compare();
    }

    private Expr compare() {
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.type() == Type.OP && COMPARE_OPS.contains(t.text())) {
                i++;
                ops.add(t.text());
            } else if (t.is(Type.NAME, "in")) {
                i++;
                ops.add("in");
            } else if (t.is(Type.NAME, "not") && tokens.get(i + 1).is(Type.NAME, "in")) {
                i += 2;
                ops.add("not in");
            } else {
                break;
            }
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Node.Compare(first, ops, rest);
    }

    private Expr math1() {
        Expr e = concat();
        while (peek().is(Type.OP, "+") || peek().is(Type.OP, "-")) {
            String op = tokens.get(i++).text();
            e = new Node.Binary(op, e, concat());
        }
        return e;
    }

    private Expr concat() {
        Expr e = math2();
        while (accept(Type.OP, "~")) {
            e = new Node.Binary("~", e, math2());
        }
        return e;
    }

    private Expr math2() {
        Expr e = pow();
        while (peek().type() == Type.OP && Set.of("*", "/", "//", "%").contains(peek().text())) {
            String op = tokens.get(i++).text();
            e = new Node.Binary(op, e, pow());
        }
        return e;
    }

    private Expr pow() {
        Expr e = unary(true);
        while (accept(Type.OP, "**")) {
            e = new Node.Binary("**", e, unary(true));
        }
        return e;
    }

    private Expr unary(boolean withFilter) {
        Expr e;
        if (accept(Type.OP, "-")) {
            e = new Node.Unary("-", unary(false));
        } else if (accept(Type.OP, "+")) {
            e = unary(false);
        } else {
            e = postfix(primary());
        }
        return withFilter ? filters(e) : e;
    }

    private Expr primary() {
        Token t = tokens.get(i++);
        switch (t.type()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Node.Literal(true);
                    case "false", "False" -> new Node.Literal(false);
                    case "none", "None" -> new Node.Literal(null);
                    default -> new Node.Name(t.text());
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.text());
                while (peek().type() == Type.STRING) {
                    sb.append(tokens.get(i++).text());
                }
                return new Node.Literal(sb.toString());
            }
            case INT -> {
                return new Node.Literal(Long.parseLong(t.text()));
            }
            case FLOAT -> {
                return new Node.Literal(Double.parseDouble(t.text()));
            }
            case OP -> {
                switch (t.text()) {
                    case "(" -> {
                        if (accept(Type.OP, ")")) {
                            return new Node.ListExpr(List.of(), true);
                        }
                        Expr e = expression();
                        if (!peek().is(Type.OP, ",")) {
                            expect(Type.OP, ")");
                            return e;
                        }
                        List<Expr> items = new ArrayList<>(List.of(e));
                        while (accept(Type.OP, ",") && !peek().is(Type.OP, ")")) {
                            items.add(expression());
                        }
                        expect(Type.OP, ")");
                        return new Node.ListExpr(items, true);
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        separated("]", () -> items.add(expression()));
                        return new Node.ListExpr(items, false);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        separated("}", () -> {
                            keys.add(expression());
                            expect(Type.OP, ":");
                            values.add(expression());
                        });
                        return new Node.DictExpr(keys, values);
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        i--;
        throw error("unexpected '" + t.text() + "'");
    }

    private Expr postfix(Expr e) {
        while (true) {
            if (accept(Type.OP, ".")) {
                Token t = tokens.get(i++);
                if (t.type() != Type.NAME && t.type() != Type.INT) {
                    throw error("expected an attribute name after '.'");
                }
                e = t.type() == Type.INT ? new Node.GetItem(e, new Node.Literal(Long.parseLong(t.text()))) : new Node.GetAttr(e, t.text());
            } else if (accept(Type.OP, "[")) {
                Expr start = peek().is(Type.OP, ":") ? null : expression();
                if (accept(Type.OP, "]")) {
                    e = new Node.GetItem(e, start);
                    continue;
                }
                expect(Type.OP, ":");
                Expr stop = peek().is(Type.OP, ":") || peek().is(Type.OP, "]") ? null : expression();
                Expr step = null;
                if (accept(Type.OP, ":") && !peek().is(Type.OP, "]")) {
                    step = expression();
                }
                expect(Type.OP, "]");
                e = new Node.Slice(e, start, stop, step);
            } else if (peek().is(Type.OP, "(")) {
                i++;
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                arguments(args, kwargs);
                e = new Node.Call(e, args, kwargs);
            } else {
                return e;
            }
        }
    }

    /** Call arguments after "(", through ")". */
    private void arguments(List<Expr> args, Map<String, Expr> kwargs) {
        while (!accept(Type.OP, ")")) {
            if (!args.isEmpty() || !kwargs.isEmpty()) {
                expect(Type.OP, ",");
                if (accept(Type.OP, ")")) {
                    return;
                }
            }
            if (peek().type() == Type.NAME && tokens.get(i + 1).is(Type.OP, "=")) {
                String key = tokens.get(i).text();
                i += 2;
                kwargs.put(key, expression());
            } else {
                args.add(expression());
            }
        }
    }

    private Expr filters(Expr e) {
        while (true) {
            if (accept(Type.OP, "|")) {
                String name = name();
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                if (accept(Type.OP, "(")) {
                    arguments(args, kwargs);
                }
                e = new Node.Filter(e, name, args, kwargs);
            } else if (acceptName("is")) {
                boolean negated = acceptName("not");
                String name = name();
                List<Expr> args = new ArrayList<>();
                Token t = peek();
                if (accept(Type.OP, "(")) {
                    arguments(args, new LinkedHashMap<>());
                } else if ((t.type() == Type.STRING || t.type() == Type.INT || t.type() == Type.FLOAT
                        || (t.type() == Type.NAME && !Set.of("else", "or", "and", "if", "is", "not", "in").contains(t.text())))) {
                    args.add(postfix(primary()));
                }
                e = new Node.Test(e, name, args, negated);
            } else {
                return e;
            }
        }
    }

    private Token peek() {
        return tokens.get(i);
    }

    /** Comma-separated items up to the closing bracket, a trailing comma allowed, as in Python's list and dict displays. */
    private void separated(String close, Runnable item) {
        for (boolean first = true; !accept(Type.OP, close); first = false) {
            if (!first) {
                expect(Type.OP, ",");
                if (accept(Type.OP, close)) {
                    return;
                }
            }
            item.run();
        }
    }

    private boolean accept(Type type, String text) {
        if (peek().is(type, text)) {
            i++;
            return true;
        }
        return false;
    }

    private boolean acceptName(String name) {
        return accept(Type.NAME, name);
    }

    private void expect(Type type) {
        if (peek().type() != type) {
            throw error("expected " + type + " but found '" + peek().text() + "'");
        }
        i++;
    }

    private void expect(Type type, String text) {
        if (!accept(type, text)) {
            throw error("expected '" + text + "' but found '" + peek().text() + "'");
        }
    }

    private void expectName(String name) {
        expect(Type.NAME, name);
    }

    private String name() {
        Token t = peek();
        if (t.type() != Type.NAME) {
            throw error("expected a name but found '" + t.text() + "'");
        }
        i++;
        return t.text();
    }

    private TemplateException error(String message) {
        return new TemplateException("template syntax: " + message + " (at offset " + peek().pos() + ")");
    }
}
