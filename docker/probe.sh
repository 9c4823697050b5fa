#!/bin/bash
# HEALTHCHECK without curl (the CUDA and micro base images ship none): GET $1 on the app's port, healthy on HTTP 200.
set -eu
exec 3<>"/dev/tcp/127.0.0.1/${QUARKUS_HTTP_PORT:-8080}"
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
read -r -t 5 _ status _ <&3
[ "$status" = 200 ]
