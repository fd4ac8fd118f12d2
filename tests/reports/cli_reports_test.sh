#!/usr/bin/env bash
# CLI-level tests of sweep / plan / analyze --format xlsx|html: exit codes, exact error messages,
# row counts and that files are written. Usage: cli_reports_test.sh PATH/TO/llmroof (source root).
set -u
bin="$1"
source "$(dirname "$0")/../cli/cli_test_lib.sh"

# Sweep: 2 hardware x 2 weights x 2 tp x 2 prompts x 1 gen x 4 batches = 64 rows (+ header).
expect 0 "$bin" sweep llama-2-7b a6000,a100-80g-sxm --batch 1-8:x2 --prompt-len 512,2048 \
  --wbits 16,4 --tp 1,2 --format csv -o "$tmp/s.csv"
lines 65 "$tmp/s.csv"
head -1 "$tmp/s.csv" | grep -q '^model,hardware,weights,group_size,tp,batch,prompt_len,gen_len,ttft_s,' ||
  { echo "FAIL: sweep csv header"; failures=$((failures + 1)); }
expect 0 "$bin" sweep llama-2-7b a6000 --batch 1,2 --format json
has '"schema_version": 1' out; has '"kind": "llmroof.sweep"' out
expect 0 "$bin" sweep llama-2-7b a6000 --batch 1,2 --tp 1,3
has "a6000     fp16      1      1    2048  128  " out
has "--tp 3 does not divide the 32 attention heads of llama-2-7b" out
expect 0 "$bin" sweep llama-2-7b a6000 --batch 1-64:x2 --prompt-len 256,1024 --format html -o "$tmp/s.html"
grep -q "Output tokens/s against batch" "$tmp/s.html" || { echo "FAIL: sweep html"; failures=$((failures + 1)); }
expect 0 "$bin" sweep llama-2-7b a6000 --batch 1,2 --format xlsx -o "$tmp/s.xlsx"
[ -s "$tmp/s.xlsx" ] || { echo "FAIL: no sweep xlsx"; failures=$((failures + 1)); }

# Bad input: exit 2 and a message naming the option.
expect 2 "$bin" sweep llama-2-7b a6000 --batch 1-x
has "llmroof: error: --batch: '1-x' is not a number or a range" err
expect 2 "$bin" sweep llama-2-7b a6000 --tp 0
has "llmroof: error: --tp: '0' must be a positive integer" err
expect 2 "$bin" sweep llama-2-7b a6000 --wbits 16,3
has "llmroof: error: --wbits: '3' is not a supported format" err
expect 2 "$bin" sweep llama-2-7b a6000 --format xlsx
has "llmroof: error: --format xlsx: a workbook cannot go to stdout; give -o FILE.xlsx" err
expect 2 "$bin" sweep llama-2-7b a6000 --format pdf
has "llmroof: error: --format: 'pdf' is not a format (table|md|json|csv|xlsx|html)" err
expect 2 "$bin" sweep llama-2-7b a6000,
has "llmroof: error: HARDWARE: 'a6000,' has an empty name" err
# -o into a missing directory names the directory, for every writer; nothing is left behind.
for fmt in csv xlsx; do
  expect 2 "$bin" sweep llama-2-7b a6000 --format $fmt -o "$tmp/missing/s.$fmt"
  has "llmroof: error: -o $tmp/missing/s.$fmt: directory '$tmp/missing' does not exist" err
done
expect 2 "$bin" analyze -o "$tmp/missing/a.json" --format json
has "llmroof: error: -o $tmp/missing/a.json: directory '$tmp/missing' does not exist" err
expect 2 "$bin" analyze -o "$tmp" --format json
has "llmroof: error: -o $tmp: is a directory" err
[ -e "$tmp/missing" ] && { echo "FAIL: $tmp/missing was created"; failures=$((failures + 1)); }
# A sweep value past the analyzer's bounds is refused per row, not overflowed into nonsense.
expect 0 "$bin" sweep llama-2-7b a6000 --batch 1,99999999999999 --format csv
has ",99999999999999,2048,128,,,,,,,,,,batch must be at most 1048576 (got 99999999999999)" out
expect 2 "$bin" sweep llama-2-7b a6000 --tp 3,6 --format csv -o "$tmp/none.csv"
has "llmroof: error: no configuration of the sweep could be analyzed; the first: --tp 3 does not divide the 32 attention heads of llama-2-7b" err
[ -e "$tmp/none.csv" ] && { echo "FAIL: none.csv written"; failures=$((failures + 1)); }
expect 2 "$bin" analyze --batch 2000000
has "llmroof: error: --batch must be at most 1048576 (got 2000000)" err

# Plan.
expect 0 "$bin" plan llama-2-7b --hardware a6000,a100-80g-sxm --ttft-slo 1s --tpot-slo 50ms
has "plan: llama-2-7b, prompt 2048 tokens, 128 generated; SLOs TTFT <= 1.00 s, TPOT <= 50.0 ms" out
has "Pareto set (tokens/s per device vs TPOT), ranked by tokens/s per device:" out
expect 0 "$bin" plan llama-2-7b --hardware a6000 --rate 5 --format csv -o "$tmp/p.csv"
head -1 "$tmp/p.csv" | grep -q 'devices_for_rate' || { echo "FAIL: plan csv"; failures=$((failures + 1)); }
expect 0 "$bin" plan llama-2-7b --hardware a6000 --format html -o "$tmp/p.html"
grep -q "throughput per device against TPOT" "$tmp/p.html" || { echo "FAIL: plan html"; failures=$((failures + 1)); }
expect 0 "$bin" plan llama-2-7b --hardware a6000 --format xlsx -o "$tmp/p.xlsx"
expect 2 "$bin" plan llama-2-7b --hardware a6000 --ttft-slo 500
has "llmroof: error: --ttft-slo: '500' is not a duration (expected a number with a unit" err
expect 2 "$bin" plan llama-2-7b --hardware a6000 --rate -1
has "llmroof: error: --rate: '-1' must be positive" err
expect 0 "$bin" plan llama-2-7b --hardware a6000 --ttft-slo 1ms
has "No configuration fits and meets both SLOs." out

# analyze --format xlsx|html (reports/xlsx_writer, reports/html_report).
expect 0 "$bin" analyze llama-2-7b a6000 --format html -o "$tmp/a.html"
grep -q "<h2>Roofline</h2>" "$tmp/a.html" || { echo "FAIL: analyze html"; failures=$((failures + 1)); }
expect 0 "$bin" analyze llama-2-7b a6000 --format xlsx -o "$tmp/a.xlsx"
[ -s "$tmp/a.xlsx" ] || { echo "FAIL: no analyze xlsx"; failures=$((failures + 1)); }
expect 2 "$bin" analyze llama-2-7b a6000 --format xlsx
has "a workbook cannot go to stdout" err

finish "cli report"
