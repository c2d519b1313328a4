#!/bin/sh
# The NVTX injection library is loaded with dlopen and, built with the initial-exec TLS model
# (src/util/hot_tls.h), takes its thread-local storage from glibc's static TLS reserve for such
# libraries (512 bytes by default): its TLS segment must stay well inside it.
# Usage: check_static_tls.sh LIBRARY [MAX_BYTES]
set -e
lib=$1 max=${2:-384}
command -v readelf >/dev/null || { echo "readelf not found: skipped"; exit 77; }
size=$(readelf -lW "$lib" | awk '$1 == "TLS" { print $6 }')
if [ -z "$size" ]; then
  echo "$lib: no TLS segment"
  exit 0
fi
bytes=$(printf '%d' "$size")
echo "$lib: TLS segment $bytes bytes (limit $max)"
if [ "$bytes" -gt "$max" ]; then
  echo "the TLS segment outgrew the static TLS reserve a dlopen may take from" >&2
  exit 1
fi
