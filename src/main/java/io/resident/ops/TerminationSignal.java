package io.resident.ops;

import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import sun.misc.Signal;

/**
 * SIGTERM is how an operator or Kubernetes asks the service to stop. Left to the JVM, the process exits 143 after
 * the drain however clean it was; taken here, it shuts down the same way (shutdown hooks: drain, close) and exits 0.
 */
@ApplicationScoped
class TerminationSignal {

    void install(@Observes StartupEvent event) {
        if (LaunchMode.current() == LaunchMode.NORMAL) {
            Signal.handle(new Signal("TERM"), signal -> Thread.ofPlatform().name("sigterm").start(() -> System.exit(0)));
        }
    }
}
