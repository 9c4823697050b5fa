package io.resident.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.vertx.http.HttpServerStart;
import io.resident.ResidentConfig;
import io.resident.ops.ResidentMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.impl.Http1xOrH2CHandler;
import io.vertx.core.http.impl.HttpServerImpl;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.impl.TCPServerBase;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * What the HTTP port does before a request reaches the router, where Quarkus gives no hook: each client address holds
 * at most RESIDENT_MAX_HTTP_CONNECTIONS_PER_CLIENT connections from the moment they are accepted (one more is answered
 * 429 and closed before anything is read), a connection must send its first request head within
 * RESIDENT_HEADER_TIMEOUT or be closed, and a request Vert.x cannot parse (a bad Content-Length, a request line over
 * the limit: 414, headers over the limit: 431) gets the OpenAI-shaped error body like every other.
 */
@ApplicationScoped
@RegisterForReflection(targets = TCPServerBase.class, fields = true, methods = false)
class ConnectionGuard {

    private static final Logger LOG = Logger.getLogger(ConnectionGuard.class);
    /** A refused connection keeps reading (and dropping) this long, so that its request never meets a reset that loses the 429. */
    private static final long REFUSED_LINGER_MS = 2_000;
    /** The name Vert.x gives its HTTP/1 response encoder in a connection's pipeline. */
    private static final String HTTP_ENCODER = "httpEncoder";

    private final Map<String, Integer> perClient = new ConcurrentHashMap<>();

    synchronized void install(@ObservesAsync HttpServerStart start, Vertx vertx, ResidentConfig config, ResidentMetrics metrics, ObjectMapper json) {
        Acceptor acceptor = new Acceptor(config.maxHttpConnectionsPerClient(), config.headerTimeout().toMillis(), metrics, json);
        for (HttpServerImpl server : ((VertxInternal) vertx).sharedHttpServers().values()) {
            Channel listening = listeningChannel(server);
            if (listening != null && listening.pipeline().get(Acceptor.class) == null) {
                listening.pipeline().addFirst(acceptor);
            }
        }
    }

    /** Vert.x 4.5 keeps its listening channel private, and it is the one place that sees a connection as it is accepted. */
    @SuppressWarnings("unchecked")
    private static Channel listeningChannel(HttpServerImpl server) {
        try {
            Field bind = TCPServerBase.class.getDeclaredField("bindFuture");
            bind.setAccessible(true);
            Future<Channel> bound = (Future<Channel>) bind.get(server);
            return bound == null ? null : bound.result();
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warnf("The HTTP port's connection limits are off: %s", e);
            return null;
        }
    }

    private static String client(Channel channel) {
        return channel.remoteAddress() instanceof InetSocketAddress address ? address.getAddress().getHostAddress() : "local";
    }

    /** On the listening channel: counts each accepted connection against its address until it closes. */
    @Sharable
    private final class Acceptor extends ChannelInboundHandlerAdapter {

        private final int maxConnections;
        private final long headerTimeoutMs;
        private final ResidentMetrics metrics;
        private final ObjectMapper json;
        /** The whole 429 a refused connection gets, made once: a flood of connections is when it is sent most. */
        private final byte[] refusal;

        Acceptor(int maxConnections, long headerTimeoutMs, ResidentMetrics metrics, ObjectMapper json) {
            this.maxConnections = maxConnections;
            this.headerTimeoutMs = headerTimeoutMs;
            this.metrics = metrics;
            this.json = json;
            this.refusal = refusal();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel connection = (Channel) msg;
            String client = client(connection);
            boolean refused = perClient.merge(client, 1, Integer::sum) > maxConnections;
            connection.closeFuture().addListener(closed -> perClient.computeIfPresent(client, (a, n) -> n == 1 ? null : n - 1));
            if (refused) {
                metrics.error("too_many_connections");
                connection.pipeline().addFirst(new Refusal(refusal));
            } else {
                connection.pipeline().addFirst(new RequestHead(headerTimeoutMs, metrics, json));
            }
            ctx.fireChannelRead(connection);
        }

        private byte[] refusal() {
            byte[] body = ApiError.of("This address has " + maxConnections + " open connections, the most"
                    + " allowed (RESIDENT_MAX_HTTP_CONNECTIONS_PER_CLIENT): reuse or close one", "invalid_request_error", null,
                    "too_many_connections").toJson(json);
            String head = "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: "
                    + body.length + "\r\nconnection: close\r\n\r\n";
            byte[] bytes = Arrays.copyOf(head.getBytes(StandardCharsets.US_ASCII), head.length() + body.length);
            System.arraycopy(body, 0, bytes, head.length(), body.length);
            return bytes;
        }
    }

    /** A connection over its address's share: answered 429 at once, its input dropped until it closes. */
    private static final class Refusal extends ChannelInboundHandlerAdapter {

        private final byte[] answer;

        Refusal(byte[] answer) {
            this.answer = answer;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(answer)).addListener(written -> {
                if (ctx.channel() instanceof DuplexChannel duplex) {
                    duplex.shutdownOutput();
                }
                ctx.executor().schedule(() -> ctx.close(), REFUSED_LINGER_MS, TimeUnit.MILLISECONDS);
            });
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * Closes a connection whose first request head has not arrived within the header timeout, and puts the answer to
     * requests Vert.x cannot parse behind Vert.x's HTTP codec, once that is in the pipeline.
     */
    private static final class RequestHead extends ChannelInboundHandlerAdapter {

        private final long timeoutMs;
        private final ResidentMetrics metrics;
        private final ObjectMapper json;
        private ScheduledFuture<?> deadline;
        private boolean answering;
        /** Characters of the current header line; a line end after an empty line ends the head. */
        private int lineLength;
        private boolean sawLine;

        RequestHead(long timeoutMs, ResidentMetrics metrics, ObjectMapper json) {
            this.timeoutMs = timeoutMs;
            this.metrics = metrics;
            this.json = json;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (ctx.pipeline().get("ssl") != null) {
                ctx.pipeline().remove(this); // TLS: the bytes here are ciphertext, and Vert.x times the handshake itself
            } else {
                answerInvalidRequests(ctx);
                deadline = ctx.executor().schedule(() -> {
                    metrics.error("header_timeout");
                    ctx.close();
                }, timeoutMs, TimeUnit.MILLISECONDS);
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf bytes)) {
                ctx.fireChannelRead(msg);
                return;
            }
            boolean headIn = bytes.forEachByte(this::beforeHeadEnd) >= 0;
            // Vert.x adds its HTTP/1 codec once the first bytes are not HTTP/2's preface: they go one at a time until
            // it has, so that the answer sits behind the codec before this request reaches it
            while (!answerInvalidRequests(ctx) && bytes.readableBytes() > 1) {
                ctx.fireChannelRead(bytes.readRetainedSlice(1));
            }
            ctx.fireChannelRead(bytes);
            // an upgrade to HTTP/2 rebuilds the pipeline within that read, this handler gone with it
            if (headIn && !ctx.isRemoved()) {
                answerInvalidRequests(ctx);
                ctx.pipeline().remove(this);
            }
        }

        /** Says whether Vert.x has chosen its codec, adding the answer to unparsable requests behind it when it has. */
        private boolean answerInvalidRequests(ChannelHandlerContext ctx) {
            if (!answering && ctx.pipeline().get(Http1xOrH2CHandler.class) == null) {
                answering = true;
                if (ctx.pipeline().get(HTTP_ENCODER) != null) {
                    ctx.pipeline().addAfter(HTTP_ENCODER, null, new InvalidRequests(metrics, json));
                }
            }
            return answering;
        }

        private boolean beforeHeadEnd(byte b) {
            if (b == '\n') {
                if (lineLength == 0 && sawLine) {
                    return false;
                }
                sawLine |= lineLength > 0;
                lineLength = 0;
            } else if (b != '\r') {
                lineLength++;
            }
            return true;
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }
    }

    /** After Vert.x's HTTP codec: a request it failed to parse is answered here, as Vert.x would, with OpenAI's body. */
    private static final class InvalidRequests extends ChannelInboundHandlerAdapter {

        private final ResidentMetrics metrics;
        private final ObjectMapper json;

        InvalidRequests(ResidentMetrics metrics, ObjectMapper json) {
            this.metrics = metrics;
            this.json = json;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HttpRequest request) || !request.decoderResult().isFailure()) {
                ctx.fireChannelRead(msg);
                return;
            }
            Throwable cause = request.decoderResult().cause();
            ReferenceCountUtil.release(msg);
            metrics.error("invalid_request");
            ApiError error;
            HttpResponseStatus status;
            if (cause instanceof TooLongHttpLineException) {
                status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
                error = ApiError.of("The request line is too long (a URL this service reads is far shorter)",
                        "invalid_request_error", null, "uri_too_long");
            } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
                status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
                error = ApiError.of("The request's headers are too large", "invalid_request_error", null,
                        "headers_too_large");
            } else {
                status = HttpResponseStatus.BAD_REQUEST;
                error = ApiError.of("The request is not valid HTTP: " + cause.getMessage(), "invalid_request_error", null,
                        "invalid_http");
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(error.toJson(json)));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
