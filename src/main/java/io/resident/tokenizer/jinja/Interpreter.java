package io.resident.tokenizer.jinja;

import io.resident.tokenizer.jinja.Node.Expr;
import io.resident.tokenizer.jinja.Py.Callable;
import io.resident.tokenizer.jinja.Py.Undefined;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Executes a parsed template: Jinja2's scoping (a for-loop body is its own scope), filters, tests and globals. */
final class Interpreter {

    private enum Flow { NEXT, BREAK, CONTINUE }

    /** Variables of one scope; lookups fall through to the enclosing one. */
    private static final class Scope {
        final Map<String, Object> vars = new HashMap<>();
        final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object get(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return new Undefined(name);
        }
    }

    /** namespace(): the one object a template may assign attributes to, to carry values out of loops. */
    private static final class Namespace {
        final Map<String, Object> attrs = new LinkedHashMap<>();
    }

    /** The {@code loop} variable of a for loop. */
    private static final class Loop {
        final List<Object> items;
        int index0;

        Loop(List<Object> items) {
            this.items = items;
        }

        Object attr(String name) {
            int n = items.size();
            return switch (name) {
                case "index" -> (long) index0 + 1;
                case "index0" -> (long) index0;
                case "revindex" -> (long) (n - index0);
                case "revindex0" -> (long) (n - index0 - 1);
                case "first" -> index0 == 0;
                case "last" -> index0 == n - 1;
                case "length" -> (long) n;
                case "depth" -> 1L;
                case "depth0" -> 0L;
                case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("previtem");
                case "nextitem" -> index0 + 1 < n ? items.get(index0 + 1) : new Undefined("nextitem");
                case "cycle" -> (Callable) (args, kw) -> args.isEmpty() ? new Undefined("cycle") : args.get(index0 % args.size());
                default -> new Undefined("loop." + name);
            };
        }
    }

    private final Clock clock;
    private final StringBuilder out = new StringBuilder();

    Interpreter(Clock clock) {
        this.clock = clock;
    }

    String render(List<Node> body, Map<String, Object> variables) {
        Scope globals = new Scope(null);
        globals.vars.put("namespace", (Callable) (args, kw) -> {
            Namespace ns = new Namespace();
            if (!args.isEmpty() && args.get(0) instanceof Map<?, ?> m) {
                m.forEach((k, v) -> ns.attrs.put((String) k, v));
            }
            ns.attrs.putAll(kw);
            return ns;
        });
        globals.vars.put("dict", (Callable) (args, kw) -> new LinkedHashMap<>(kw));
        globals.vars.put("range", (Callable) (args, kw) -> range(args));
        globals.vars.put("raise_exception", (Callable) (args, kw) -> {
            throw new TemplateException(args.isEmpty() ? "raise_exception() called" : Py.str(args.get(0)));
        });
        globals.vars.put("strftime_now", (Callable) (args, kw) -> strftime(Py.str(args.get(0)), LocalDateTime.now(clock)));
        Scope top = new Scope(globals);
        top.vars.putAll(variables);
        exec(body, top);
        return out.toString();
    }

    private Flow exec(List<Node> nodes, Scope scope) {
        for (Node node : nodes) {
            Flow flow = exec(node, scope);
            if (flow != Flow.NEXT) {
                return flow;
            }
        }
        return Flow.NEXT;
    }

    private Flow exec(Node node, Scope scope) {
        switch (node) {
            case Node.Text t -> out.append(t.text());
            case Node.Output o -> out.append(Py.str(eval(o.value(), scope)));
            case Node.If f -> {
                for (int i = 0; i < f.conditions().size(); i++) {
                    if (Py.truthy(eval(f.conditions().get(i), scope))) {
                        return exec(f.bodies().get(i), scope);
                    }
                }
                return exec(f.orElse(), scope);
            }
            case Node.For f -> {
                return loop(f, scope);
            }
            case Node.Set s -> assign(s, eval(s.value(), scope), scope);
            case Node.SetBlock s -> {
                int mark = out.length();
                exec(s.body(), scope);
                scope.vars.put(s.target(), out.substring(mark));
                out.setLength(mark);
            }
            case Node.Break b -> {
                return Flow.BREAK;
            }
            case Node.Continue c -> {
                return Flow.CONTINUE;
            }
        }
        return Flow.NEXT;
    }

    private Flow loop(Node.For f, Scope scope) {
        List<Object> items = new ArrayList<>();
        for (Object item : iterate(eval(f.iterable(), scope))) {
            if (f.filter() == null) {
                items.add(item);
            } else {
                Scope probe = new Scope(scope);
                bind(f.targets(), item, probe);
                if (Py.truthy(eval(f.filter(), probe))) {
                    items.add(item);
                }
            }
        }
        if (items.isEmpty()) {
            return exec(f.orElse(), scope);
        }
        Loop loop = new Loop(items);
        for (int i = 0; i < items.size(); i++) {
            loop.index0 = i;
            Scope body = new Scope(scope);
            bind(f.targets(), items.get(i), body);
            body.vars.put("loop", loop);
            if (exec(f.body(), body) == Flow.BREAK) {
                break;
            }
        }
        return Flow.NEXT;
    }

    private void assign(Node.Set s, Object value, Scope scope) {
        if (s.attribute() == null) {
            bind(s.targets(), value, scope);
            return;
        }
        if (!(scope.get(s.targets().get(0)) instanceof Namespace ns)) {
            throw new TemplateException("cannot assign attribute on non-namespace object '" + s.targets().get(0) + "'");
        }
        ns.attrs.put(s.attribute(), value);
    }

    private void bind(List<String> targets, Object value, Scope scope) {
        if (targets.size() == 1) {
            scope.vars.put(targets.get(0), value);
            return;
        }
        List<Object> parts = iterate(value);
        if (parts.size() != targets.size()) {
            throw new TemplateException("cannot unpack " + parts.size() + " values into " + targets.size() + " names");
        }
        for (int i = 0; i < targets.size(); i++) {
            scope.vars.put(targets.get(i), parts.get(i));
        }
    }

    private Object eval(Expr e, Scope scope) {
        return switch (e) {
            case Node.Literal l -> l.value();
            case Node.Name n -> scope.get(n.name());
            case Node.ListExpr l -> {
                List<Object> items = new ArrayList<>();
                l.items().forEach(x -> items.add(eval(x, scope)));
                yield l.tuple() ? new Py.Tuple(items) : items;
            }
            case Node.DictExpr d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    map.put(eval(d.keys().get(i), scope), eval(d.values().get(i), scope));
                }
                yield map;
            }
            case Node.GetAttr g -> getAttr(eval(g.target(), scope), g.name());
            case Node.GetItem g -> getItem(eval(g.target(), scope), eval(g.key(), scope));
            case Node.Slice s -> slice(eval(s.target(), scope), opt(s.start(), scope), opt(s.stop(), scope), opt(s.step(), scope));
            case Node.Call c -> call(eval(c.function(), scope), evalAll(c.args(), scope), evalAll(c.kwargs(), scope));
            case Node.Filter f -> filter(f.name(), eval(f.value(), scope), evalAll(f.args(), scope), evalAll(f.kwargs(), scope));
            case Node.Test t -> test(t.name(), eval(t.value(), scope), evalAll(t.args(), scope)) != t.negated();
            case Node.Unary u -> u.op().equals("not") ? !Py.truthy(eval(u.operand(), scope)) : negate(eval(u.operand(), scope));
            case Node.Binary b -> binary(b, scope);
            case Node.Compare c -> {
                Object left = eval(c.first(), scope);
                for (int i = 0; i < c.ops().size(); i++) {
                    Object right = eval(c.rest().get(i), scope);
                    if (!compare(c.ops().get(i), left, right)) {
                        yield false;
                    }
                    left = right;
                }
                yield true;
            }
            case Node.Conditional c -> Py.truthy(eval(c.condition(), scope)) ? eval(c.then(), scope)
                    : c.orElse() == null ? new Undefined("conditional") : eval(c.orElse(), scope);
        };
    }

    private Object opt(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private List<Object> evalAll(List<Expr> exprs, Scope scope) {
        List<Object> values = new ArrayList<>();
        exprs.forEach(x -> values.add(eval(x, scope)));
        return values;
    }

    private Map<String, Object> evalAll(Map<String, Expr> exprs, Scope scope) {
        Map<String, Object> values = new LinkedHashMap<>();
        exprs.forEach((k, x) -> values.put(k, eval(x, scope)));
        return values;
    }

    private Object binary(Node.Binary b, Scope scope) {
        Object left = eval(b.left(), scope);
        switch (b.op()) {
            case "and" -> {
                return Py.truthy(left) ? eval(b.right(), scope) : left;
            }
            case "or" -> {
                return Py.truthy(left) ? left : eval(b.right(), scope);
            }
            case "~" -> {
                return Py.str(left) + Py.str(eval(b.right(), scope));
            }
            default -> {
                return arithmetic(b.op(), left, eval(b.right(), scope));
            }
        }
    }

    private static Object arithmetic(String op, Object a, Object b) {
        if (a instanceof Undefined u || b instanceof Undefined) {
            throw new TemplateException("'" + (a instanceof Undefined x ? x : (Undefined) b).name() + "' is undefined");
        }
        if (op.equals("+")) {
            if (a instanceof String x && b instanceof String y) {
                return x + y;
            }
            if (a instanceof List<?> x && b instanceof List<?> y) {
                List<Object> joined = new ArrayList<>(x);
                joined.addAll(y);
                return joined;
            }
        }
        if (op.equals("*") && (a instanceof String || a instanceof List) && b instanceof Long n) {
            return repeat(a, n);
        }
        if (op.equals("*") && a instanceof Long n && (b instanceof String || b instanceof List)) {
            return repeat(b, n);
        }
        if (!Py.isNumber(a) || !Py.isNumber(b)) {
            throw new TemplateException("unsupported operand types for " + op + ": '" + Py.typeName(a) + "' and '" + Py.typeName(b) + "'");
        }
        boolean integers = !(a instanceof Double) && !(b instanceof Double);
        double x = Py.toDouble(a);
        double y = Py.toDouble(b);
        if ((op.equals("/") || op.equals("//") || op.equals("%")) && y == 0) {
            throw new TemplateException("division by zero");
        }
        return switch (op) {
            case "+" -> integers ? (Object) (Py.toLong(a) + Py.toLong(b)) : x + y;
            case "-" -> integers ? (Object) (Py.toLong(a) - Py.toLong(b)) : x - y;
            case "*" -> integers ? (Object) (Py.toLong(a) * Py.toLong(b)) : x * y;
            case "/" -> x / y;
            case "//" -> integers ? (Object) Math.floorDiv(Py.toLong(a), Py.toLong(b)) : Math.floor(x / y);
            case "%" -> integers ? (Object) Math.floorMod(Py.toLong(a), Py.toLong(b)) : x - Math.floor(x / y) * y;
            case "**" -> integers && Py.toLong(b) >= 0 ? (Object) (long) Math.pow(x, y) : Math.pow(x, y);
            default -> throw new TemplateException("unknown operator " + op);
        };
    }

    private static Object repeat(Object seq, long n) {
        if (seq instanceof String s) {
            return s.repeat((int) Math.max(0, n));
        }
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            out.addAll((List<?>) seq);
        }
        return out;
    }

    private static Object negate(Object v) {
        return switch (v) {
            case Long l -> -l;
            case Double d -> -d;
            case Boolean b -> b ? -1L : 0L;
            default -> throw new TemplateException("bad operand type for unary -: '" + Py.typeName(v) + "'");
        };
    }

    private static boolean compare(String op, Object a, Object b) {
        return switch (op) {
            case "==" -> Py.eq(a, b);
            case "!=" -> !Py.eq(a, b);
            case "<" -> Py.compare(a, b) < 0;
            case ">" -> Py.compare(a, b) > 0;
            case "<=" -> Py.compare(a, b) <= 0;
            case ">=" -> Py.compare(a, b) >= 0;
            case "in" -> contains(b, a);
            case "not in" -> !contains(b, a);
            default -> throw new TemplateException("unknown comparison " + op);
        };
    }

    private static boolean contains(Object container, Object item) {
        return switch (container) {
            case String s when item instanceof String x -> s.contains(x);
            case String s -> throw new TemplateException("'in <string>' requires string as left operand, not " + Py.typeName(item));
            case List<?> l -> l.stream().anyMatch(x -> Py.eq(x, item));
            case Map<?, ?> m -> m.keySet().stream().anyMatch(k -> Py.eq(k, item));
            case Undefined u -> false;
            default -> throw new TemplateException("argument of type '" + Py.typeName(container) + "' is not iterable");
        };
    }

    static List<Object> iterate(Object v) {
        return switch (v) {
            case List<?> l -> new ArrayList<>(l);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> new ArrayList<>(s.codePoints().mapToObj(Character::toString).toList());
            case Undefined u -> new ArrayList<>();
            default -> throw new TemplateException("'" + Py.typeName(v) + "' object is not iterable");
        };
    }

    private static Object call(Object f, List<Object> args, Map<String, Object> kwargs) {
        if (f instanceof Callable c) {
            return c.call(args, kwargs);
        }
        if (f instanceof Undefined u) {
            throw new TemplateException("'" + u.name() + "' is undefined");
        }
        throw new TemplateException("'" + Py.typeName(f) + "' object is not callable");
    }

    // Jinja looks an attribute up as an attribute first (so dict methods win), then as an item.
    private static Object getAttr(Object obj, String name) {
        return switch (obj) {
            case Undefined u -> throw new TemplateException("'" + u.name() + "' is undefined");
            case Namespace ns -> ns.attrs.containsKey(name) ? ns.attrs.get(name) : new Undefined(name);
            case Loop loop -> loop.attr(name);
            case String s -> Methods.string(s, name);
            case Map<?, ?> m -> {
                Object method = Methods.dict(m, name);
                yield method != null ? method : m.containsKey(name) ? m.get(name) : new Undefined(name);
            }
            default -> new Undefined(name);
        };
    }

    private static Object getItem(Object obj, Object key) {
        switch (obj) {
            case Undefined u -> throw new TemplateException("'" + u.name() + "' is undefined");
            case Map<?, ?> m -> {
                if (m.containsKey(key)) {
                    return m.get(key);
                }
            }
            case List<?> l when key instanceof Long i -> {
                long idx = i < 0 ? l.size() + i : i;
                return idx >= 0 && idx < l.size() ? l.get((int) idx) : new Undefined("[" + i + "]");
            }
            case String s when key instanceof Long i -> {
                int[] cps = s.codePoints().toArray();
                long idx = i < 0 ? cps.length + i : i;
                return idx >= 0 && idx < cps.length ? Character.toString(cps[(int) idx]) : new Undefined("[" + i + "]");
            }
            default -> { }
        }
        return key instanceof String name ? getAttr(obj, name) : new Undefined(Py.str(key));
    }

    private static Object slice(Object obj, Object start, Object stop, Object step) {
        List<Object> items;
        boolean string = obj instanceof String;
        if (obj instanceof List<?> l) {
            items = new ArrayList<>(l);
        } else if (string) {
            items = iterate(obj);
        } else {
            throw new TemplateException("'" + Py.typeName(obj) + "' object is not subscriptable");
        }
        int n = items.size();
        long st = step == null ? 1 : Py.toLong(step);
        if (st == 0) {
            throw new TemplateException("slice step cannot be zero");
        }
        long lo = bound(start, n, st > 0 ? 0 : n - 1, st);
        long hi = bound(stop, n, st > 0 ? n : -1, st);
        List<Object> out = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
            out.add(items.get((int) i));
        }
        return string ? String.join("", out.stream().map(String.class::cast).toList()) : out;
    }

    private static long bound(Object v, int n, long dflt, long step) {
        if (v == null) {
            return dflt;
        }
        long i = Py.toLong(v);
        if (i < 0) {
            i += n;
        }
        return step > 0 ? Math.max(0, Math.min(i, n)) : Math.max(-1, Math.min(i, n - 1));
    }

    private static List<Object> range(List<Object> args) {
        long start = args.size() > 1 ? Py.toLong(args.get(0)) : 0;
        long stop = Py.toLong(args.get(args.size() > 1 ? 1 : 0));
        long step = args.size() > 2 ? Py.toLong(args.get(2)) : 1;
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.add(i);
        }
        return out;
    }

    private Object filter(String name, Object v, List<Object> args, Map<String, Object> kw) {
        return switch (name) {
            case "length", "count" -> v instanceof String s ? (long) s.codePointCount(0, s.length()) : (long) iterate(v).size();
            case "trim" -> Py.strip(Py.str(v), arg(args, kw, 0, "chars", null) instanceof String c ? c : null, true, true);
            case "tojson" -> Py.json(v, arg(args, kw, 0, "indent", null) instanceof Long i ? i.intValue() : null,
                    Py.truthy(kw.get("sort_keys")));
            case "string" -> Py.str(v);
            case "upper" -> Py.str(v).toUpperCase(Locale.ROOT);
            case "lower" -> Py.str(v).toLowerCase(Locale.ROOT);
            case "capitalize" -> Methods.capitalize(Py.str(v));
            case "title" -> Methods.title(Py.str(v));
            case "default", "d" -> v instanceof Undefined || (Py.truthy(arg(args, kw, 1, "boolean", false)) && !Py.truthy(v))
                    ? arg(args, kw, 0, "default_value", "") : v;
            case "first" -> {
                List<Object> items = iterate(v);
                yield items.isEmpty() ? new Undefined("first") : items.get(0);
            }
            case "last" -> {
                List<Object> items = iterate(v);
                yield items.isEmpty() ? new Undefined("last") : items.get(items.size() - 1);
            }
            case "join" -> {
                Object attribute = arg(args, kw, 1, "attribute", null);
                List<String> parts = new ArrayList<>();
                for (Object item : iterate(v)) {
                    parts.add(Py.str(attribute == null ? item : getItem(item, attribute)));
                }
                yield String.join(Py.str(arg(args, kw, 0, "d", "")), parts);
            }
            case "list" -> iterate(v);
            case "int" -> toInt(v, arg(args, kw, 0, "default", 0L));
            case "float" -> toFloat(v, arg(args, kw, 0, "default", 0.0));
            case "abs" -> v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Py.toLong(v));
            case "round" -> {
                long precision = Py.toLong(arg(args, kw, 0, "precision", 0L));
                double scale = Math.pow(10, precision);
                yield Math.round(Py.toDouble(v) * scale) / scale;
            }
            case "replace" -> {
                String s = Py.str(v);
                Object count = arg(args, kw, 2, "count", null);
                yield Methods.replace(s, Py.str(args.get(0)), Py.str(args.get(1)), count == null ? -1 : Py.toLong(count));
            }
            case "reverse" -> {
                if (v instanceof String s) {
                    yield new StringBuilder(s).reverse().toString();
                }
                List<Object> items = iterate(v);
                Collections.reverse(items);
                yield items;
            }
            case "sort" -> {
                List<Object> items = iterate(v);
                Object attribute = arg(args, kw, 2, "attribute", null);
                Comparator<Object> order = (a, b) -> Py.compare(attribute == null ? a : getItem(a, attribute), attribute == null ? b : getItem(b, attribute));
                items.sort(Py.truthy(arg(args, kw, 0, "reverse", false)) ? order.reversed() : order);
                yield items;
            }
            case "unique" -> {
                List<Object> items = new ArrayList<>();
                for (Object item : iterate(v)) {
                    if (items.stream().noneMatch(x -> Py.eq(x, item))) {
                        items.add(item);
                    }
                }
                yield items;
            }
            case "selectattr", "rejectattr", "select", "reject" -> {
                boolean byAttr = name.endsWith("attr");
                boolean keep = name.startsWith("select");
                List<Object> out = new ArrayList<>();
                for (Object item : iterate(v)) {
                    Object subject = byAttr ? getItem(item, args.get(0)) : item;
                    int testAt = byAttr ? 1 : 0;
                    boolean passed = args.size() > testAt
                            ? test(Py.str(args.get(testAt)), subject, args.subList(testAt + 1, args.size()))
                            : Py.truthy(subject);
                    if (passed == keep) {
                        out.add(item);
                    }
                }
                yield out;
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : iterate(v)) {
                    if (kw.containsKey("attribute")) {
                        Object value = getItem(item, kw.get("attribute"));
                        out.add(value instanceof Undefined && kw.containsKey("default") ? kw.get("default") : value);
                    } else {
                        out.add(filter(Py.str(args.get(0)), item, args.subList(1, args.size()), Map.of()));
                    }
                }
                yield out;
            }
            case "items" -> {
                if (!(v instanceof Map<?, ?> m)) {
                    throw new TemplateException("items filter needs a mapping, not " + Py.typeName(v));
                }
                List<Object> out = new ArrayList<>();
                m.forEach((k, x) -> out.add(new Py.Tuple(Arrays.asList(k, x))));
                yield out;
            }
            case "indent" -> {
                String pad = arg(args, kw, 0, "width", 4L) instanceof String s ? s : " ".repeat((int) Py.toLong(arg(args, kw, 0, "width", 4L)));
                boolean first = Py.truthy(arg(args, kw, 1, "first", false));
                boolean blank = Py.truthy(arg(args, kw, 2, "blank", false));
                String[] lines = Py.str(v).split("\n", -1);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < lines.length; i++) {
                    boolean indentIt = (i > 0 || first) && (blank || !lines[i].isBlank());
                    sb.append(i > 0 ? "\n" : "").append(indentIt ? pad : "").append(lines[i]);
                }
                yield sb.toString();
            }
            case "sum" -> {
                Object total = arg(args, kw, 1, "start", 0L);
                Object attribute = arg(args, kw, 0, "attribute", null);
                for (Object item : iterate(v)) {
                    total = arithmetic("+", total, attribute == null ? item : getItem(item, attribute));
                }
                yield total;
            }
            case "safe" -> v;
            case "escape", "e" -> Py.str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace("\"", "&#34;").replace("'", "&#39;");
            default -> throw new TemplateException("no filter named '" + name + "'");
        };
    }

    private static Object arg(List<Object> args, Map<String, Object> kw, int position, String name, Object dflt) {
        if (args.size() > position) {
            return args.get(position);
        }
        return kw.getOrDefault(name, dflt);
    }

    private static Object toInt(Object v, Object dflt) {
        try {
            return switch (v) {
                case Long l -> l;
                case Double d -> (long) (double) d;
                case Boolean b -> b ? 1L : 0L;
                case String s -> Long.parseLong(s.strip());
                default -> dflt;
            };
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private static Object toFloat(Object v, Object dflt) {
        try {
            return v instanceof String s ? Double.parseDouble(s.strip()) : Py.isNumber(v) ? Py.toDouble(v) : dflt;
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private boolean test(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> Py.isNumber(v);
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map;
            case "iterable", "sequence" -> v instanceof List || v instanceof Map || v instanceof String;
            case "callable" -> v instanceof Callable;
            case "even" -> Py.toLong(v) % 2 == 0;
            case "odd" -> Py.toLong(v) % 2 != 0;
            case "divisibleby" -> Py.toLong(v) % Py.toLong(args.get(0)) == 0;
            case "eq", "equalto", "==" -> Py.eq(v, args.get(0));
            case "ne", "!=" -> !Py.eq(v, args.get(0));
            case "lt", "lessthan", "<" -> Py.compare(v, args.get(0)) < 0;
            case "gt", "greaterthan", ">" -> Py.compare(v, args.get(0)) > 0;
            case "le", "<=" -> Py.compare(v, args.get(0)) <= 0;
            case "ge", ">=" -> Py.compare(v, args.get(0)) >= 0;
            case "in" -> contains(args.get(0), v);
            case "sameas" -> v == args.get(0) || (v != null && v.equals(args.get(0)) && (v instanceof Boolean));
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            default -> throw new TemplateException("no test named '" + name + "'");
        };
    }

    /** Python's strftime for the directives chat templates use, plus glibc's "%-d" (no padding). */
    static String strftime(String format, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                sb.append(c);
                continue;
            }
            boolean pad = true;
            char d = format.charAt(++i);
            if (d == '-' && i + 1 < format.length()) {
                pad = false;
                d = format.charAt(++i);
            }
            int hour12 = t.getHour() % 12 == 0 ? 12 : t.getHour() % 12;
            String value = switch (d) {
                case 'd' -> num(t.getDayOfMonth(), 2, pad);
                case 'm' -> num(t.getMonthValue(), 2, pad);
                case 'Y' -> Integer.toString(t.getYear());
                case 'y' -> num(t.getYear() % 100, 2, pad);
                case 'H' -> num(t.getHour(), 2, pad);
                case 'I' -> num(hour12, 2, pad);
                case 'M' -> num(t.getMinute(), 2, pad);
                case 'S' -> num(t.getSecond(), 2, pad);
                case 'j' -> num(t.getDayOfYear(), 3, pad);
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'b' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US);
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.US);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US);
                case '%' -> "%";
                default -> "%" + (pad ? "" : "-") + d;
            };
            sb.append(value);
        }
        return sb.toString();
    }

    private static String num(int v, int width, boolean pad) {
        return pad ? String.format("%0" + width + "d", v) : Integer.toString(v);
    }
}
