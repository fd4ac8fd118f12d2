#!/usr/bin/env bash
# The accuracy measurement of docs/validate.md: Llama-2-7b layers at batch 1 in fp32, W8A16, W4A16
# and W8A8, prefill of 512 tokens, decode at context 513 (gen 2) and averaged over 513..3583
# (gen 3072, mean 2048). A fresh calibration right before each format's two validate runs (the
# host's DRAM bandwidth drifts by +-10 % within minutes on a shared machine).
# Usage: bench/validate_accuracy.sh [OUTDIR] [THREADS] [LLMROOF]   (about 6 minutes at 1 thread)
set -u
out=${1:-/tmp/llmroof-accuracy}; threads=${2:-1}; bin=${3:-build/dev/cli/llmroof}
mkdir -p "$out"
# Thread CPU time shuts out other tenants but times one thread only (validate/calibrate refuse it
# with more); with more threads the wall clock is the only honest one.
clock=cpu; [ "$threads" -gt 1 ] && clock=wall
uptime > "$out/uptime.txt"
for fmt in "32 32" "8 32" "4 32" "8 8"; do
  set -- $fmt
  "$bin" calibrate --threads "$threads" --clock "$clock" -o "$out/host_w$1a$2.yaml" 2> "$out/cal_w$1a$2.err"
  for gen in 2 3072; do
    "$bin" validate llama-2-7b --hardware "$out/host_w$1a$2.yaml" --batch 1 --prompt-len 512 \
      --gen-len "$gen" --wbits "$1" --abits "$2" --kvbits 32 --flash-attn --layers 4 \
      --threads "$threads" --clock "$clock" > "$out/val_w$1a$2_g$gen.txt" 2>/dev/null
  done
done
uptime >> "$out/uptime.txt"
for f in "$out"/val_*.txt; do
  echo "== $(basename "$f")"; grep -E "^(TTFT|TPOT)|median \||^device" "$f"
done | tee "$out/summary.txt"
