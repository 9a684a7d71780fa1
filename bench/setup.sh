#!/usr/bin/env bash
# Installs the benchmark's peers (idempotent, non-interactive):
#   - PyTorch from Debian (python3-torch), run with the system interpreter /usr/bin/python3;
#   - JAX/XLA from PyPI into an isolated virtualenv bench/.venv (its own numpy, so the
#     Debian numpy that python3-torch was built against stays untouched).
# Usage: bench/setup.sh
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$BENCH_DIR/.venv"
DEBIAN_PACKAGES=(python3-torch python3-numpy python3-venv libopenblas-dev)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench/setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "bench/setup: Debian packages present"
fi

# A missing or damaged virtualenv (say, half deleted) is rebuilt from scratch.
if "$VENV/bin/python" -c "import jax, jaxlib" 2>/dev/null; then
  echo "bench/setup: jax present ($("$VENV/bin/python" -c 'import jax; print(jax.__version__)'))"
else
  echo "bench/setup: creating $VENV and installing jax"
  /usr/bin/python3 -m venv --clear "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet jax jaxlib
fi
echo "bench/setup: ready (PyTorch: /usr/bin/python3, JAX: $VENV/bin/python)"
