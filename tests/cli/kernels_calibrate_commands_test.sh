#!/usr/bin/env bash
# CLI-level tests of kernels / calibrate / validate (and show hardware's optional efficiency
# fields): bad input exits 2 with a message naming the option or file, before any measuring, and
# leaves no output file; plus fast positive runs. No timing is asserted (the gate runs with a
# tolerance that cannot trip).
# Usage: kernels_calibrate_commands_test.sh PATH/TO/llmroof   (run from the source root, as ctest does)
set -u
bin="$1"
source "$(dirname "$0")/../cli/cli_test_lib.sh"

# --- kernels -------------------------------------------------------------------------------------
expect 0 "$bin" kernels list
has "gemm_w4a16" out; has "rmsnorm" out
expect 0 "$bin" kernels check rmsnorm --threads 1
has "PASSED rmsnorm(" out; has "-- llmroof kernels bench rmsnorm --m " out; has " 0 failed" out
expect 2 "$bin" kernels check rmsnrm
has "unknown kernel 'rmsnrm'; did you mean: rmsnorm?" err
expect 2 "$bin" kernels bench gemm_w4a16x
has "unknown kernel 'gemm_w4a16x'; did you mean: gemm_w4a16" err
expect 2 "$bin" kernels bench no_such_thing
has "unknown kernel 'no_such_thing' (see \`llmroof kernels list\`)" err
expect 2 "$bin" kernels bench gemm_fp32 --m -1 --n 64 --k 64
has "--m -1: must be >= 1" err
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 0 --k 64
has "--n 0: must be >= 1" err
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 64 --k -64
has "--k -64: must be >= 1" err
expect 2 "$bin" kernels bench gemm_w4a16 --m 1 --n 64 --k 64 --group-size 0
has "--group-size 0: must be >= 1" err
expect 2 "$bin" kernels bench gemm_w4a16 --m 1 --n 64 --k 64 --group-size 12
has "--group-size 12: gemm_w4a16 needs a multiple of 8" err
expect 2 "$bin" kernels bench rmsnorm --m 1000000000 --n 1000000000
has "more than half of this machine's memory" err; has "--m 1000000000" err
expect 2 "$bin" kernels bench attention_prefill --q-len 0
has "--q-len 0: must be >= 1" err
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 64 --k 64 --threads -1
has "--threads -1: must be 0 (all cores) to" err
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 64 --k 64 --threads 1000000
has "--threads 1000000: must be 0 (all cores) to" err
expect 2 "$bin" kernels check rmsnorm --threads -2
has "--threads -2" err
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 64 --k 64 --reps 0
has "--reps 0: must be >= 1" err
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 64 --k 64 --min-time -1
has "--min-time" err
expect 2 "$bin" kernels bench gemm_fp32 --m abc
has "--m" err
# The roofline divides by the hardware file's peak for the kernel's compute dtype (W8A8: int8).
expect 0 "$bin" kernels bench gemm_w8a8 --m 2 --n 64 --k 64 --reps 1 --min-time 0 --threads 1
has "(host-reference-cpu: 34.0 GB/s, int8 1.93TOP/s)" out
expect 0 "$bin" kernels bench gemm_fp32 --m 2 --n 64 --k 64 --reps 1 --min-time 0 --threads 1 \
  --hardware hardware_db/a6000.yaml --peak-gflops 100
has "(a6000: 768 GB/s, " out; has "fp32 100GOP/s)" out
# A GQA 8 decode (d128, 8 q heads, 64 keys) whose q·k and P·V run as dot products on the CPU
# feature $2 names its $3 peak for their 2 · 2 · 128 · 8 · 64 = 262144 ops ("$3 ... for 262KOP"),
# the rest at fp32's; without that feature everything is at fp32's.
decode_limit_names_share() {
  expect 0 "$bin" kernels bench "$1" --head-dim 128 --kv-len 64 --q-heads 8 --kv-heads 1 \
    --reps 1 --min-time 0 --threads 1
  if grep -qw "$2" <<<"$("$bin" kernels list)"; then
    has "(host-reference-cpu: 34.0 GB/s, fp32 482GOP/s, $3 for 262KOP)" out
  else
    has "(host-reference-cpu: 34.0 GB/s, fp32 482GOP/s)" out
  fi
}
decode_limit_names_share attention_decode_int8 avx512_vnni "int8 1.93TOP/s"  # vpdpbusd
decode_limit_names_share attention_decode_bf16 avx512_bf16 "bf16 240GOP/s"   # vdpbf16ps
expect 0 "$bin" kernels bench attention_decode_int8 --head-dim 128 --kv-len 64 --q-heads 8 --kv-heads 1 \
  --reps 1 --min-time 0 --threads 1 --peak-gflops 100
has "fp32 100GOP/s)" out
# Faster than the limits it divides by: the line says the limits are not this machine's.
expect 0 "$bin" kernels bench rmsnorm --m 4 --n 256 --reps 1 --min-time 0 --threads 1 \
  --bandwidth-gbs 0.001 --peak-gflops 0.001
has "above the roofline: the given limits are below this machine's; \`llmroof calibrate\` measures them" out
expect 0 "$bin" kernels bench rmsnorm --m 4 --n 256 --reps 1 --min-time 0 --threads 1 \
  --bandwidth-gbs 1000000 --peak-gflops 1000000
if grep -qF "above the roofline" <<<"$out"; then
  echo "FAIL: 'above the roofline' printed below the roofline"; failures=$((failures + 1))
fi
# A shape the SIMD path does not take is timed as what it runs, and the line says so.
expect 0 "$bin" kernels bench attention_decode_fp32 --head-dim 100 --kv-len 64 --q-heads 4 --kv-heads 4 \
  --reps 1 --min-time 0 --threads 1
has "isa=" out; has ", this shape runs the scalar reference (head_dim not a multiple of 16)" out
expect 0 "$bin" kernels bench attention_prefill --head-dim 72 --q-len 8 --kv-len 8 --q-heads 2 --kv-heads 2 \
  --reps 1 --min-time 0 --threads 1 --check
has "PASSED attention_prefill(" out
has "[this shape runs the scalar reference (head_dim not a multiple of 16): compared with itself]" out
expect 0 "$bin" kernels bench attention_decode_fp32 --head-dim 64 --kv-len 64 --q-heads 4 --kv-heads 4 \
  --reps 1 --min-time 0 --threads 1
if grep -qF "scalar reference" <<<"$out"; then
  echo "FAIL: head_dim 64 is reported as running the reference"; failures=$((failures + 1))
fi
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 64 --k 64 --hardware no_such_hw
has "--hardware no_such_hw: unknown hardware" err
expect 2 "$bin" kernels bench gemm_fp32 --m 1 --n 64 --k 64 --peak-gflops -5
has "--peak-gflops must be positive" err

# --- calibrate (every case fails before measuring) -----------------------------------------------
expect 2 "$bin" calibrate --quick --threads -1
has "--threads -1" err
expect 2 "$bin" calibrate --quick --threads 1000000
has "--threads 1000000" err
expect 2 "$bin" calibrate --quick -o "$tmp/missing/host.yaml"
has "-o $tmp/missing/host.yaml: directory '$tmp/missing' does not exist" err
absent "$tmp/missing"
expect 2 "$bin" calibrate --quick -o "$tmp"
has "is a directory" err
expect 2 "$bin" calibrate --quick --device gpu
has "--device: 'gpu'" err
expect 2 "$bin" calibrate --quick --name ""
has "--name must not be empty" err

# --- validate ------------------------------------------------------------------------------------
v=("$bin" validate tiny-test --hardware a6000 --layers 1 --prompt-len 16 --gen-len 4)
expect 0 "${v[@]}" --format json -o "$tmp/run.json" --save-baseline "$tmp/base.json"
grep -qF '"schema_version"' "$tmp/run.json" || { echo "FAIL: run.json lacks schema_version"; failures=$((failures + 1)); }
grep -qF '"schema_version"' "$tmp/base.json" || { echo "FAIL: base.json lacks schema_version"; failures=$((failures + 1)); }
# (tiny-test ops take microseconds: a time slice lost on a busy machine moves a ratio 100x.)
expect 0 "${v[@]}" --baseline "$tmp/base.json" --tolerance 1000000
has "gate: ok" err
expect 0 "$bin" validate tiny-test --hardware a6000 --layers 1000 --prompt-len 16 --gen-len 4
has "--layers 1000 is more than tiny-test's" out
has "device: DRAM read" out

expect 2 "$bin" validate tiny-test --layers 1 --prompt-len 16 --gen-len 4 --hardware "$tmp/none.yaml"
has "--hardware $tmp/none.yaml" err
expect 2 "${v[@]}" --layers -1
has "--layers" err
expect 2 "${v[@]}" --threads -1
has "--threads -1" err
expect 2 "${v[@]}" --threads 1000000
has "--threads 1000000" err
expect 2 "${v[@]}" --tolerance -0.5
has "--tolerance must be >= 0" err
expect 2 "${v[@]}" --gate-min-time-us -1
has "--gate-min-time-us must be >= 0" err
expect 2 "${v[@]}" --format xml
has "--format" err
expect 2 "${v[@]}" --wbits 4 --abits 8
has "--abits 8 needs --wbits 8" err
expect 2 "${v[@]}" --wbits 4 --group-size 12
has "--group-size 12: the int4 CPU kernels need a positive multiple of 8" err
expect 2 "$bin" validate baichuan2-13b --hardware a6000 --layers 1 --prompt-len 16 --gen-len 4
has "positional_encoding: alibi" err
expect 2 "$bin" validate tiny-test --hardware a6000 --layers 1 --prompt-len 16000000 --gen-len 4
has "lower --layers, --batch or --prompt-len" err
expect 2 "${v[@]}" --baseline "$tmp/none.json"
has "$tmp/none.json: cannot open baseline" err
echo '{"schema_version": 1, "ops": [' >"$tmp/bad.json"
expect 2 "${v[@]}" --baseline "$tmp/bad.json"
has "$tmp/bad.json: not valid JSON" err
echo '{}' >"$tmp/empty.json"
expect 2 "${v[@]}" --baseline "$tmp/empty.json"
has "$tmp/empty.json: missing key 'schema_version'" err
expect 2 "$bin" validate qwen2-0.5b --hardware a6000 --layers 1 --prompt-len 16 --gen-len 4 \
  --baseline "$tmp/base.json"
has "--baseline $tmp/base.json: baseline is not comparable: it was recorded for 'tiny-test'" err
expect 2 "${v[@]}" --wbits 8 --baseline "$tmp/base.json"
has "baseline is not comparable" err
expect 2 "${v[@]}" -o "$tmp/missing/out.json"
has "-o $tmp/missing/out.json: directory '$tmp/missing' does not exist" err
# A bad --save-baseline fails before the report is written: no half-done -o file.
expect 2 "${v[@]}" -o "$tmp/out2.json" --save-baseline "$tmp/missing/b.json"
has "--save-baseline $tmp/missing/b.json" err
absent "$tmp/out2.json"

# --- show hardware: the optional attention efficiencies appear when the file has them -------------
sed -e 's/^name:.*/name: a6000-attn/' \
    -e 's/^efficiency:$/efficiency:\n  attention_memory: {value: 0.7, source: "test"}\n  attention_compute: {value: 0.4, source: "test"}\n  attention_compute_short: {value: 0.15, source: "test"}\n  memory_w8a8: {value: 0.85, source: "test"}/' \
    hardware_db/a6000.yaml >"$tmp/attn.yaml"
expect 0 "$bin" show hardware "$tmp/attn.yaml"
has "efficiency: attention memory                    70.0 %" out
has "efficiency: attention compute                   40.0 %" out
has "efficiency: attention compute, 64-token prompt  15.0 %" out
has "efficiency: memory, W8A8                        85.0 %" out
expect 0 "$bin" show hardware "$tmp/attn.yaml" --format json
has '"attention_memory": 0.7' out; has '"attention_compute": 0.4' out
has '"attention_compute_short": 0.15' out; has '"memory_w8a8": 0.85' out
expect 0 "$bin" show hardware a6000
if grep -qF "attention" <<<"$out"; then echo "FAIL: a6000 shows attention efficiencies it lacks"; failures=$((failures + 1)); fi

finish "CLI kernels/calibrate/validate"
