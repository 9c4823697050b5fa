package io.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How ./mvnw finds a JDK 21+ on a machine whose java is older (this one's is 17): it runs here against fake JDK
 * folders and a fake Maven that prints the JAVA_HOME it was given, so nothing is downloaded or built.
 */
class MavenWrapperTest {

    @TempDir
    Path temp;

    private Path jdks;
    private Path mavenUserHome;

    @BeforeEach
    void fakeMaven() throws IOException {
        jdks = Files.createDirectories(temp.resolve("jvm"));
        Properties wrapper = new Properties();
        try (var in = Files.newInputStream(Path.of(".mvn/wrapper/maven-wrapper.properties"))) {
            wrapper.load(in);
        }
        String url = wrapper.getProperty("distributionUrl");
        String name = url.substring(url.lastIndexOf('/') + 1).replaceFirst("-bin\\.zip$", "");
        // the wrapper's folder for a distribution: its name, then the URL's Java String hash in hex
        mavenUserHome = temp.resolve("m2");
        Path mavenHome = mavenUserHome.resolve("wrapper/dists").resolve(name).resolve(Integer.toHexString(url.hashCode()));
        script(mavenHome.resolve("bin/mvn"), "echo \"maven ran with JAVA_HOME=$JAVA_HOME\"");
    }

    @Test
    void javaOnThePathTooOldFindsTheNewestJdkInTheSearchFolders() throws Exception {
        Path jdk17 = jdk("jdk-17", "17.0.15");
        jdk("jdk-21", "21.0.7");
        Path jdk25 = jdk("temurin-25", "25.0.3");
        Result run = mvnw(Map.of("MVNW_JDK_DIRS", jdks.toString()), jdk17);

        assertEquals(0, run.exit(), run.output());
        assertEquals("maven ran with JAVA_HOME=" + jdk25, run.output().strip());
    }

    @Test
    void aJdk21OnThePathIsUsedAsItIs() throws Exception {
        Path jdk21 = jdk("jdk-21", "21.0.7");
        jdk("temurin-25", "25.0.3");
        Result run = mvnw(Map.of("MVNW_JDK_DIRS", jdks.toString()), jdk21);

        assertEquals("maven ran with JAVA_HOME=" + jdk21, run.output().strip());
    }

    @Test
    void javaHomeWinsWhenItIsNewEnoughAndIsPassedOverWithANoteWhenItIsNot() throws Exception {
        Path jdk17 = jdk("jdk-17", "17.0.15");
        Path jdk21 = jdk("jdk-21", "21.0.7");
        Path jdk25 = jdk("temurin-25", "25.0.3");

        Result chosen = mvnw(Map.of("MVNW_JDK_DIRS", jdks.toString(), "JAVA_HOME", jdk21.toString()), jdk17);
        assertEquals("maven ran with JAVA_HOME=" + jdk21, chosen.output().strip());

        Result tooOld = mvnw(Map.of("MVNW_JDK_DIRS", jdks.toString(), "JAVA_HOME", jdk17.toString()), jdk17);
        assertEquals("mvnw: JAVA_HOME=" + jdk17 + " is not a JDK 21+; using " + jdk25 + "\n"
                + "maven ran with JAVA_HOME=" + jdk25, tooOld.output().strip());
    }

    @Test
    void withoutAJdk21ItStopsAtOnceAndSaysWhatToInstall() throws Exception {
        Path jdk17 = jdk("jdk-17", "17.0.15");
        Result run = mvnw(Map.of("MVNW_JDK_DIRS", jdks.toString()), jdk17);

        assertEquals(1, run.exit());
        assertEquals("mvnw: resident needs a JDK 21 or newer (25 recommended) and found none: javac on the PATH is JDK 17 ("
                + jdk17 + "); none in " + jdks + ".\n"
                + "Install one (for example Temurin 25: https://adoptium.net, or 'sdk install java 25-tem'), then run ./mvnw again;\n"
                + "a JDK in another folder: JAVA_HOME=/path/to/jdk ./mvnw ...", run.output().strip());
    }

    private record Result(int exit, String output) {}

    /** Runs ./mvnw with only the fake JDK's javac ahead of the system tools on the PATH. */
    private Result mvnw(Map<String, String> env, Path javacOnPath) throws Exception {
        Path bin = Files.createDirectories(temp.resolve("path-" + javacOnPath.getFileName()));
        Files.deleteIfExists(bin.resolve("javac"));
        Files.createSymbolicLink(bin.resolve("javac"), javacOnPath.resolve("bin/javac"));
        ProcessBuilder builder = new ProcessBuilder("sh", "./mvnw", "-v").redirectErrorStream(true);
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(key -> key.startsWith("JAVA_HOME") || key.startsWith("MVNW_") || key.startsWith("MAVEN_"));
        environment.put("PATH", bin + ":/usr/bin:/bin");
        environment.put("MAVEN_USER_HOME", mavenUserHome.toString());
        environment.putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "mvnw did not finish: " + output);
        return new Result(process.exitValue(), output);
    }

    /** A folder that looks like a JDK home to the wrapper: bin/javac, bin/java and a release file. */
    private Path jdk(String folder, String version) throws IOException {
        Path home = jdks.resolve(folder);
        script(home.resolve("bin/javac"), "exit 0");
        script(home.resolve("bin/java"), "exit 0");
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        return home;
    }

    private static void script(Path file, String body) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
