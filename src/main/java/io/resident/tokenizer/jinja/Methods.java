package io.resident.tokenizer.jinja;

import io.resident.tokenizer.jinja.Py.Callable;
import io.resident.tokenizer.jinja.Py.Undefined;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The Python str and dict methods templates call, e.g. content.startswith('<think>') or tool.items(). */
final class Methods {

    private Methods() {
    }

    static Object string(String s, String name) {
        return switch (name) {
            case "startswith" -> (Callable) (a, kw) -> affix(a.get(0), p -> s.startsWith(p));
            case "endswith" -> (Callable) (a, kw) -> affix(a.get(0), p -> s.endsWith(p));
            case "strip" -> (Callable) (a, kw) -> Py.strip(s, chars(a), true, true);
            case "lstrip" -> (Callable) (a, kw) -> Py.strip(s, chars(a), true, false);
            case "rstrip" -> (Callable) (a, kw) -> Py.strip(s, chars(a), false, true);
            case "split" -> (Callable) (a, kw) -> split(s, a.isEmpty() || a.get(0) == null ? null : Py.str(a.get(0)),
                    a.size() > 1 ? Py.toLong(a.get(1)) : Py.toLong(kw.getOrDefault("maxsplit", -1L)));
            case "upper" -> (Callable) (a, kw) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (Callable) (a, kw) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (Callable) (a, kw) -> title(s);
            case "capitalize" -> (Callable) (a, kw) -> capitalize(s);
            case "replace" -> (Callable) (a, kw) -> replace(s, Py.str(a.get(0)), Py.str(a.get(1)), a.size() > 2 ? Py.toLong(a.get(2)) : -1);
            case "find" -> (Callable) (a, kw) -> (long) s.indexOf(Py.str(a.get(0)));
            case "count" -> (Callable) (a, kw) -> (long) count(s, Py.str(a.get(0)));
            case "join" -> (Callable) (a, kw) -> String.join(s, Interpreter.iterate(a.get(0)).stream().map(Py::str).toList());
            case "isdigit" -> (Callable) (a, kw) -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isspace" -> (Callable) (a, kw) -> Py.isSpace(s);
            default -> new Undefined(name);
        };
    }

    /** A dict method, or null when the name is not one (then it is looked up as a key). */
    static Object dict(Map<?, ?> m, String name) {
        return switch (name) {
            case "items" -> (Callable) (a, kw) -> {
                List<Object> out = new ArrayList<>();
                m.forEach((k, v) -> out.add(new Py.Tuple(Arrays.asList(k, v))));
                return out;
            };
            case "keys" -> (Callable) (a, kw) -> new ArrayList<Object>(m.keySet());
            case "values" -> (Callable) (a, kw) -> new ArrayList<Object>(m.values());
            case "get" -> (Callable) (a, kw) -> m.containsKey(a.get(0)) ? m.get(a.get(0)) : a.size() > 1 ? a.get(1) : null;
            default -> null;
        };
    }

    private static boolean affix(Object arg, java.util.function.Predicate<String> test) {
        if (arg instanceof List<?> options) {
            return options.stream().anyMatch(o -> test.test(Py.str(o)));
        }
        return test.test(Py.str(arg));
    }

    private static String chars(List<Object> a) {
        return a.isEmpty() || a.get(0) == null ? null : Py.str(a.get(0));
    }

    static List<Object> split(String s, String sep, long maxSplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && Py.isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    return out;
                }
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(Py.rstrip(s.substring(i)));
                    return out;
                }
                int j = i;
                while (j < n && !Py.isSpace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
        }
        if (sep.isEmpty()) {
            throw new TemplateException("empty separator");
        }
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static String replace(String s, String old, String replacement, long count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long done = 0; done < count; done++) {
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            sb.append(s, from, at).append(replacement);
            from = at + old.length();
        }
        return sb.append(s.substring(from)).toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1;
        }
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }
}
