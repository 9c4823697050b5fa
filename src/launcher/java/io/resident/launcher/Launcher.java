package io.resident.launcher;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The Main-Class of quarkus-run.jar, compiled for Java 8 apart from the app (whose classes all target 21), so that
 * an older java says in one line what is wrong instead of exiting without a word; a java 21+ goes on to Quarkus.
 */
public final class Launcher {

    static final int NEEDED = 21;
    private static final String QUARKUS_ENTRY_POINT = "io.quarkus.bootstrap.runner.QuarkusEntryPoint";

    private Launcher() {}

    public static void main(String[] args) throws Throwable {
        String specification = System.getProperty("java.specification.version");
        // "1.8" up to Java 8, "17" since Java 9
        int feature = Integer.parseInt(specification.startsWith("1.") ? specification.substring(2) : specification);
        if (feature < NEEDED) {
            System.err.println("resident needs Java " + NEEDED + " or newer, but this is Java "
                    + System.getProperty("java.version") + " (" + System.getProperty("java.home")
                    + "): run the jar with the java of a JDK " + NEEDED + "+ (25 recommended)");
            System.exit(1);
        }
        MethodHandles.publicLookup().findStatic(Class.forName(QUARKUS_ENTRY_POINT), "main",
                MethodType.methodType(void.class, String[].class)).invokeExact(args);
    }
}
