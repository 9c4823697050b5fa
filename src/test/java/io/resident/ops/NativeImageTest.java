package io.resident.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What a native build needs from the code (no Mandrel here to run one; docs/deployment.md says what was verified):
 * every resource the app reads from its classpath is included, and no main code reflects on classes unregistered.
 */
class NativeImageTest {

    private static final Path CLASSES = Path.of("target/classes");
    /** Reflection the closed world of a native image does not see unless the class is registered. */
    private static final Pattern REFLECTION = Pattern.compile(
            "import java\\.lang\\.reflect\\.|Class\\.forName\\(|\\.getDeclared(Method|Field|Constructor)s?\\(|\\.class\\.newInstance\\(|MethodHandles\\.lookup\\(");

    @Test
    void everyClasspathResourceOfTheAppIsInTheNativeImage() throws IOException {
        Properties app = new Properties();
        try (Reader in = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            app.load(in);
        }
        List<PathMatcher> includes = Arrays.stream(app.getProperty("quarkus.native.resources.includes", "").split(","))
                .filter(glob -> !glob.isBlank())
                .map(glob -> FileSystems.getDefault().getPathMatcher("glob:" + glob.strip())).toList();
        List<Path> resources;
        try (Stream<Path> files = Files.walk(CLASSES)) {
            resources = files.filter(Files::isRegularFile).map(CLASSES::relativize)
                    .filter(p -> !p.toString().endsWith(".class") && !p.toString().equals("application.properties")
                            && !p.startsWith("META-INF"))
                    .toList();
        }
        assertFalse(resources.isEmpty(), "the demo model's tokenizer files are app resources");
        assertEquals(List.of(), resources.stream().filter(p -> includes.stream().noneMatch(m -> m.matches(p))).toList(),
                "resources a native executable would lack (quarkus.native.resources.includes)");
    }

    @Test
    void mainCodeReflectsOnlyOnRegisteredClasses() throws IOException {
        List<String> unregistered;
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            unregistered = sources.filter(p -> p.toString().endsWith(".java")).filter(p -> {
                String code = read(p);
                return REFLECTION.matcher(code).find() && !code.contains("@RegisterForReflection");
            }).map(Path::toString).toList();
        }
        assertEquals(List.of(), unregistered, "reflection without @RegisterForReflection");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
