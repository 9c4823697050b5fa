#!/usr/bin/env bash
# Builds resident's native companion (native/libresident_native.so) against a libtorch with CUDA: the one DJL
# is pointed at (PYTORCH_LIBRARY_PATH=<libtorch>/lib), or a Python torch's (torch.utils.cmake_prefix_path).
# Needs cmake, a C++17 compiler, nvcc and a JDK's include/ (JAVA_HOME). CUDA_ARCHITECTURES (say 90) builds for
# fewer GPUs than the default 80;86;89;90, faster.
#
#   src/main/cpp/build.sh [OUT_DIR]            # OUT_DIR defaults to native/ in the repository root
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../native}
if [ -n "${PYTORCH_LIBRARY_PATH:-}" ]; then
  prefix=$(cd "$PYTORCH_LIBRARY_PATH/.." && pwd)
  # a Python wheel keeps its CMake config under share/cmake, a libtorch zip too
  [ -d "$prefix/share/cmake/Torch" ] || { echo "no share/cmake/Torch under $prefix: point PYTORCH_LIBRARY_PATH at a libtorch with its CMake files" >&2; exit 1; }
else
  prefix=$(python3 -c "import torch.utils; print(torch.utils.cmake_prefix_path)")
fi
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    ${CUDA_ARCHITECTURES:+-DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCHITECTURES"} \
    -DJAVA_HOME="$java_home" -DJAVA_INCLUDE_PATH="$java_home/include" -DJAVA_INCLUDE_PATH2="$java_home/include/linux" \
    -DJAVA_AWT_INCLUDE_PATH=NotNeeded -DJAVA_JVM_LIBRARY=NotNeeded -DJAVA_AWT_LIBRARY=NotNeeded > "$build/cmake.log" \
    || { cat "$build/cmake.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)"
mkdir -p "$out"
cp "$build/libresident_native.so" "$out/"
echo "$(cd "$out" && pwd)/libresident_native.so"
