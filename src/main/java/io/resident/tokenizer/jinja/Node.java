package io.resident.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/** The syntax tree of a template: statements that write output, and expressions that compute values. */
sealed interface Node {

    record Text(String text) implements Node {}

    record Output(Expr value) implements Node {}

    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> orElse) implements Node {}

    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> orElse) implements Node {}

    /** {@code set name = value}, {@code set a, b = value} or {@code set ns.attr = value}. */
    record Set(List<String> targets, String attribute, Expr value) implements Node {}

    record SetBlock(String target, List<Node> body) implements Node {}

    record Break() implements Node {}

    record Continue() implements Node {}

    sealed interface Expr {}

    record Literal(Object value) implements Expr {}

    record ListExpr(List<Expr> items, boolean tuple) implements Expr {}

    record DictExpr(List<Expr> keys, List<Expr> values) implements Expr {}

    record Name(String name) implements Expr {}

    record GetAttr(Expr target, String name) implements Expr {}

    record GetItem(Expr target, Expr key) implements Expr {}

    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(Expr function, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    record Filter(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    record Test(Expr value, String name, List<Expr> args, boolean negated) implements Expr {}

    record Unary(String op, Expr operand) implements Expr {}

    record Binary(String op, Expr left, Expr right) implements Expr {}

    record Compare(Expr first, List<String> ops, List<Expr> rest) implements Expr {}

    record Conditional(Expr condition, Expr then, Expr orElse) implements Expr {}
}
