package io.resident.api.ws;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.resident.ResidentConfig;
import io.vertx.core.http.HttpServerOptions;
import jakarta.enterprise.context.Dependent;

/**
 * What the HTTP server reads of one WebSocket message before giving up: {@value #SLACK}x RESIDENT_MAX_FRAME_SIZE.
 * A message between the two is read and refused with an error frame, the connection staying open. Beyond, the
 * server stops reading: a message of several frames gets an error frame and a close with 1009 (message too big);
 * a single frame that announces more than the cap makes the server drop the connection.
 *
 * <p>Compression (permessage-deflate) is off unless RESIDENT_WS_COMPRESSION turns it on: Vert.x inflates a compressed
 * message whole before the cap applies. The older per-frame deflate extension is never offered.
 */
@Dependent
public class TransportLimits implements HttpServerOptionsCustomizer {

    static final int SLACK = 4;

    private final int cap;

    TransportLimits(ResidentConfig config) {
        this.cap = cap(config);
    }

    static int cap(ResidentConfig config) {
        return (int) Math.min(Integer.MAX_VALUE - 8, SLACK * config.maxFrameSize().asLongValue());
    }

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        options.setMaxWebSocketFrameSize(cap).setMaxWebSocketMessageSize(cap).setPerFrameWebSocketCompressionSupported(false);
    }

    @Override
    public void customizeHttpsServer(HttpServerOptions options) {
        customizeHttpServer(options);
    }
}
