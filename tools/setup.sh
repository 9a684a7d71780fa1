#!/usr/bin/env bash
# Installs everything loom needs on Debian 12 (idempotent, non-interactive).
# Usage: tools/setup.sh [--no-build]
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build
  llvm-19-dev
  libprotobuf-dev protobuf-compiler
  catch2
  libopenblas-dev
  python3-numpy
  dataset-fashion-mnist
  zlib1g-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
