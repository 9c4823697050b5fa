package io.resident.engine;

import java.util.List;

/** Startup cannot go on: each problem is one line telling the operator what is wrong and what to do. */
public class StartupException extends RuntimeException {
    private final List<String> problems;

    public StartupException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public StartupException(String problem) {
        this(List.of(problem));
    }

    public List<String> problems() {
        return problems;
    }
}
