#!/usr/bin/env bash
# On a GPU host, from an unpacked bundle (src/bench/bundle.sh): resident's ServingBenchmark and transformers'
# same measurements for each shape in one run, the comparison tables, and optionally, on a checkpoint directory
# (bench/make_checkpoint.py), the load benchmark over HTTP and the time from start to ready of the service. DJL
# must find the host's libtorch and a JNI library built for it (PYTORCH_LIBRARY_PATH, PYTORCH_VERSION,
# PYTORCH_FLAVOR, DJL_CACHE_DIR; see docs/benchmarks.md). Writes a JSON per shape and library, comparison.md and
# run.log into OUT_DIR. resident's run also measures the KV cache (a 10-turn chat to 6k tokens with and without
# the prefix cache, 64 chats of up to 8k in the memory of 16 full contexts, a prompt as long as the context) and, on
# chatglm3-6b, 8 decoding streams while 8 prompts of 7,000 tokens prefill; transformers has no counterpart of those.
# The load benchmark serves the checkpoint with `java -jar` (64 slots x 8,192 positions) and runs 1, 8, 32 and 64
# concurrent streams of 128-token prompts and replies, greedy, then 32 at temperature 0.8 and top-p 0.8, then one
# stream alone: load-*.json, load.md, and load.svg beside transformers.
#
#   bench/run-gpu.sh OUT_DIR [--shapes "chatglm3-6b qwen2.5-7b"] [--checkpoint DIR] [--quick]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$1; shift
mkdir -p "$out"
shapes="chatglm3-6b qwen2.5-0.5b qwen2.5-7b llama-3.1-8b"
checkpoint=""
sizes=()
kv_sizes=()
load_sizes=()
while [ $# -gt 0 ]; do
  case $1 in
    --shapes) shapes=$2; shift 2 ;;
    --checkpoint) checkpoint=$2; shift 2 ;;
    --quick) sizes=(--prompts 128,2048 --batches 1,8 --streams 1,8 --tokens 32 --decode-steps 16)
             kv_sizes=(--chat-turns 4 --chat-history 2000 --pool-chats 16 --pool-slots 4)
             load_sizes=(--rounds 1); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
java=("$root/runtime/bin/java" -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Dai.djl.offline=true
      --enable-native-access=ALL-UNNAMED)
classpath="$root/bench/classes:$(ls "$root"/app/app/*.jar):$root/app/lib/main/*:$root/app/lib/boot/*"

pairs=()
for shape in $shapes; do
  echo "== resident: $shape"
  interference=()
  if [ "$shape" = chatglm3-6b ]; then interference=(--interference 8,7000); fi
  "${java[@]}" -cp "$classpath" io.resident.bench.ServingBenchmark --shape "$shape" --device cuda --dtype float16 \
      "${sizes[@]}" "${kv_sizes[@]}" "${interference[@]}" --json "$out/resident-$shape.json" 2>&1 | grep -v ' INFO ' | tee -a "$out/run.log"
  echo "== transformers: $shape"
  python3 "$root/bench/transformers_bench.py" --shape "$shape" --shapes "$root/bench/classes/io/resident/bench" \
      "${sizes[@]}" --json "$out/hf-$shape.json" >> "$out/run.log" 2>&1 || { tail -20 "$out/run.log"; continue; }
  pairs+=("$out/resident-$shape.json" "$out/hf-$shape.json")
done
[ ${#pairs[@]} -eq 0 ] || python3 "$root/bench/compare.py" "${pairs[@]}" | tee "$out/comparison.md"

# java -jar on the checkpoint until readiness answers 200; extra JVM options as arguments
start_to_ready() {
  local label=$1; shift
  local start log service
  start=$(date +%s%N)
  log=$(mktemp)
  RESIDENT_MODEL=$checkpoint QUARKUS_HTTP_PORT=8089 "${java[@]}" "$@" -jar "$root/app/quarkus-run.jar" > "$log" 2>&1 &
  service=$!
  until python3 -c 'import urllib.request as u; u.urlopen("http://localhost:8089/q/health/ready", timeout=1)' 2>/dev/null; do
    kill -0 $service 2>/dev/null || { tail -5 "$log"; return 1; }
    sleep 0.05
  done
  echo "$label: ready after $(( ($(date +%s%N) - start) / 1000000 )) ms"
  grep -E 'started in|Ready:' "$log" | tail -2
  cat "$log" >> "$out/run.log"
  kill $service; wait $service 2>/dev/null || true
}

# the load benchmark over HTTP against java -jar on the checkpoint; its 1-stream figure against the in-process one
load() {
  local service
  RESIDENT_MODEL=$checkpoint RESIDENT_DEVICE=cuda RESIDENT_MAX_BATCH=64 RESIDENT_MAX_CONTEXT=8192 \
      RESIDENT_MAX_HTTP_CONNECTIONS_PER_CLIENT=256 QUARKUS_HTTP_PORT=8089 \
      "${java[@]}" -jar "$root/app/quarkus-run.jar" > "$out/service.log" 2>&1 &
  service=$!
  trap "kill $service 2>/dev/null || true" EXIT
  local bench=("${java[@]}" -cp "$classpath" io.resident.bench.LoadBenchmark --url http://localhost:8089
               --prompt-tokens 128 --max-tokens 128 "${load_sizes[@]}")
  "${bench[@]}" --concurrency 1,8,32,64 --json "$out/load-greedy.json" | tee -a "$out/load.md"
  "${bench[@]}" --concurrency 32 --temperature 0.8 --top-p 0.8 --json "$out/load-sampled.json" | tee -a "$out/load.md"
  "${bench[@]}" --concurrency 1 --rounds 16 --json "$out/load-one.json" | tee -a "$out/load.md"
  grep -E 'Ready:|Compute path' "$out/service.log" | tee -a "$out/load.md" || true
  kill $service; wait $service 2>/dev/null || true
  if [ -f "$out/hf-chatglm3-6b.json" ]; then
    python3 "$root/bench/chart.py" --resident "$out/load-greedy.json" --transformers "$out/hf-chatglm3-6b.json" \
        --out "$out/load.svg" --title "ChatGLM3-6B shape, random weights: resident over HTTP and transformers"
  fi
  if [ -f "$out/resident-chatglm3-6b.json" ]; then
    python3 - "$out/load-one.json" "$out/resident-chatglm3-6b.json" <<'PY' | tee -a "$out/load.md"
import json, sys
http, local = (json.load(open(p)) for p in sys.argv[1:])
a, b = http["levels"][0]["itl_ms"]["p50"], local["streams"]["1"]["ms_per_token_median"]
print(f"1 stream, inter-token latency p50: {a} ms over HTTP, {b} ms in-process ({100 * (a - b) / b:+.1f}%)")
PY
  fi
}

if [ -n "$checkpoint" ]; then
  echo "== load over HTTP on $checkpoint"
  load
  echo "== service start to ready on $checkpoint ($(du -sh "$checkpoint" | cut -f1))"
  start_to_ready "plain"
  # a class-data archive of the service's own classes, written at the first exit and mapped at later starts
  archive=$(mktemp -u --suffix=.jsa)
  start_to_ready "writing a CDS archive" -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile="$archive"
  start_to_ready "with the CDS archive" -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile="$archive"
fi
