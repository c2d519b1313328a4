#!/usr/bin/env bash
# Installs what tbprof needs to build, from the system's packages, only when missing.
# Idempotent: a second run installs nothing. Usage: scripts/deps.sh [--with-browser]
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libprotobuf-dev protobuf-compiler libabsl-dev
  libpng-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev graphviz
  libgrpc++-dev protobuf-compiler-grpc python3-venv libopenmpi-dev openmpi-bin)
if [[ "${1:-}" == "--with-browser" ]]; then packages+=(chromium); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-venv is not needed where a python3 already has a working venv module.
if python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "tbprof: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
