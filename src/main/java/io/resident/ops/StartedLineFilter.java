package io.resident.ops;

import io.quarkus.logging.LoggingFilter;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

/**
 * Drops Quarkus's "started in ... Listening on" line: the HTTP server opens before the model loads, so that the probes
 * answer meanwhile, and the line would announce a start that can still fail. The model holder's "Ready:" line says when
 * the service serves.
 */
@LoggingFilter(name = "started-line")
public final class StartedLineFilter implements Filter {

    @Override
    public boolean isLoggable(LogRecord record) {
        String message = record.getMessage();
        return !("io.quarkus".equals(record.getLoggerName()) && message != null && message.contains("started in"));
    }
}
