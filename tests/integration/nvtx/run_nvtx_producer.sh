#!/bin/sh
# tbprof run -- nvtx_producer, then its Chrome trace and summary checked.
# Usage: run_nvtx_producer.sh TBPROF PRODUCER CHECKER WORKDIR
set -e
tbprof=$1 producer=$2 checker=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir"
"$tbprof" run --logdir "$dir/logs" -- "$producer" 2> "$dir/run.err"
"$tbprof" chrome "$dir/logs" -o "$dir/trace.json"
"$tbprof" summary "$dir/logs" --top 50 > "$dir/summary.txt"
python3 "$checker" "$dir/trace.json" "$dir/summary.txt"
