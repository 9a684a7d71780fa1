#!/usr/bin/env bash
# The README's first command: installs what loom needs (tools/setup.sh), builds a
# Release build into build/, and runs the main job.
#   LOOM_BUILD_DIR (default build), LOOM_WERROR=ON|OFF, LOOM_SKIP_MAIN_JOB=1
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh

BUILD_DIR="${LOOM_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_WERROR="${LOOM_WERROR:-OFF}"
cmake --build "$BUILD_DIR" -j "$(nproc)"

if [ "${LOOM_SKIP_MAIN_JOB:-0}" != "1" ]; then
  echo "== main job: train an MLP on Fashion-MNIST with compiled CPU code, then evaluate it"
  "$BUILD_DIR/bin/fashion-mnist" --model=mlp --epochs "${LOOM_EPOCHS:-5}"
fi
