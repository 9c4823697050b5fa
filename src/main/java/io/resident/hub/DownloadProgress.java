package io.resident.hub;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * One model's download progress, shared by the threads fetching its files: a log line every few
 * seconds (percent, MB/s, ETA), the counter resident_model_download_bytes_total and the gauge
 * resident_model_download_progress (0 to 1).
 */
final class DownloadProgress {

    private static final Logger LOG = Logger.getLogger(DownloadProgress.class);
    private static final long LOG_EVERY_NANOS = Duration.ofSeconds(5).toNanos();

    private final String model;
    private final Counter downloaded;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong lastLog = new AtomicLong();
    private volatile long total;
    private volatile long resumed;
    private volatile long startNanos;

    DownloadProgress(String model, MeterRegistry registry) {
        this.model = model;
        this.downloaded = Counter.builder("resident.model.download.bytes")
                .description("Bytes of model files downloaded from the Hugging Face Hub")
                .baseUnit("bytes")
                .tag("model", model)
                .register(registry);
        Gauge.builder("resident.model.download.progress", this, DownloadProgress::fraction)
                .description("Share of the current model download on disk, from 0 to 1")
                .tag("model", model)
                .strongReference(true)
                .register(registry);
    }

    /** A download of {@code total} bytes begins, {@code resumed} of them already on disk from an earlier try. */
    void start(long total, long resumed) {
        this.total = total;
        this.resumed = resumed;
        this.done.set(resumed);
        this.startNanos = System.nanoTime();
        this.lastLog.set(startNanos);
    }

    void transferred(int bytes) {
        done.addAndGet(bytes);
        downloaded.increment(bytes);
        long now = System.nanoTime();
        long last = lastLog.get();
        if (total > 0 && now - last >= LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
            LOG.infof("Downloading %s: %s", model, status());
        }
    }

    void finish() {
        Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
        LOG.infof("Downloaded %s: %s in %s, %.1f MB/s", model, size(total - resumed), duration(elapsed.toSeconds()),
                (done.get() - resumed) / Math.max(elapsed.toNanos() / 1e9, 1e-3) / 1e6);
    }

    /** Bytes on disk that were thrown away (a corrupt file, a server that would not resume). */
    void discarded(long bytes) {
        done.addAndGet(-bytes);
    }

    double fraction() {
        long all = total;
        return all == 0 ? 1.0 : (double) done.get() / all;
    }

    private String status() {
        long doneNow = done.get();
        return describe(doneNow, total, doneNow - resumed, Duration.ofNanos(System.nanoTime() - startNanos));
    }

    /** "42% of 15.2 GB, 85.3 MB/s, ETA 1m 43s": speed over this run's bytes, ETA from that speed. */
    static String describe(long done, long total, long thisRun, Duration elapsed) {
        double seconds = Math.max(elapsed.toNanos() / 1e9, 1e-3);
        double perSecond = thisRun / seconds;
        String eta = perSecond > 0 ? duration(Math.round((total - done) / perSecond)) : "unknown";
        long percent = total == 0 ? 100 : done * 100 / total;
        return String.format(Locale.ROOT, "%d%% of %s, %.1f MB/s, ETA %s", percent, size(total), perSecond / 1e6, eta);
    }

    static String size(long bytes) {
        if (bytes >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
        }
        return bytes >= 1_000_000L ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6) : String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
    }

    static String duration(long seconds) {
        if (seconds >= 3600) {
            return String.format(Locale.ROOT, "%dh %02dm", seconds / 3600, seconds % 3600 / 60);
        }
        return seconds >= 60 ? String.format(Locale.ROOT, "%dm %02ds", seconds / 60, seconds % 60) : seconds + "s";
    }
}
