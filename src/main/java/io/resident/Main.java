package io.resident;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * The service's entry point. It alone is compiled for Java 17 (pom.xml), so that a java older than the service
 * needs says what to do, where it would otherwise stop silently on the first class compiled for Java 21.
 */
@QuarkusMain
public final class Main {

    static final int MIN_JAVA = 21;

    private Main() {}

    public static void main(String... args) {
        int feature = Runtime.version().feature();
        if (feature < MIN_JAVA) {
            System.err.println("startup failed: resident needs Java " + MIN_JAVA + " or newer, and "
                    + System.getProperty("java.home") + " is Java " + feature
                    + ": start it with the java of a JDK " + MIN_JAVA + "+ (for example <jdk>/bin/java -jar"
                    + " target/quarkus-app/quarkus-run.jar); ./mvnw finds one by itself");
            System.exit(1);
        }
        Quarkus.run(args);
    }
}
