#!/usr/bin/env bash
# CLI-level tests of list / show / import-hf: exit codes and exact messages of the built binary.
# Usage: io_commands_test.sh PATH/TO/llmroof   (run from the source root, as ctest does)
set -u
bin="$1"
source "$(dirname "$0")/../cli/cli_test_lib.sh"

expect 0 "$bin" list models
has "llama-2-7b" out; has "mixtral-8x7b       mixtral    46.7 B  12.9 B" out
expect 0 "$bin" list hardware
has "a6000" out; has "201.6 op/B" out; has "low confidence" out
expect 2 "$bin" list modles
expect 0 "$bin" show model llama-2-7b
has "6,738,415,616 (6.74 B)" out; has "KV cache per token (16-bit)       524 KB (524,288 B)" out
expect 0 "$bin" show model mixtral-8x7b --format json
has '"schema_version": 1' out; has '"active": 12879925248' out
expect 0 "$bin" show hardware a6000
has "fp16                              201.6 ops/byte" out
has "memory bandwidth            768 GB/s" out; has "fp16 dense                  155 TOPS" out
has "[inferred] half of the datasheet's 309.7 TFLOPS tensor figure" out
expect 0 "$bin" show hardware h100-sxm --format json
has '"memory_bandwidth_bytes_per_s": 3350000000000.0' out

# Unknown names, missing files, bad files: exit 2 with the message.
expect 2 "$bin" show model llama2-7b
is "llmroof: error: unknown model 'llama2-7b'; did you mean: llama-2-7b, llama-2-70b, llama-2-13b?" err
expect 2 "$bin" show hardware a600
is "llmroof: error: unknown hardware 'a600'; did you mean: a6000?" err
expect 2 "$bin" show model "$tmp/none.yaml"
is "llmroof: error: cannot read '$tmp/none.yaml': No such file or directory" err
mkdir -p "$tmp/zoo/model_zoo"
sed 's/^hidden_size:/hiden_size:/' model_zoo/tiny-test.yaml >"$tmp/zoo/model_zoo/tiny-bad.yaml"
sed -i 's/^name: tiny-test/name: tiny-bad/' "$tmp/zoo/model_zoo/tiny-bad.yaml"
expect 2 "$bin" --search-path "$tmp/zoo" show model tiny-bad
is "llmroof: error: $tmp/zoo/model_zoo/tiny-bad.yaml:4:1: unknown key 'hiden_size' (did you mean 'hidden_size'?)
  hiden_size: 256
  ^" err

# A config.json is accepted wherever a model is.
expect 0 "$bin" show model tests/io/data/mixtral-8x7b.json
has "12,879,925,248 (12.9 B)" out

# import-hf writes the zoo format; the result loads and equals the shipped entry.
expect 0 "$bin" import-hf tests/io/data/qwen2-0.5b.json -o "$tmp/qwen2-0.5b.yaml" --source Qwen/Qwen2-0.5B
is "wrote $tmp/qwen2-0.5b.yaml (model 'qwen2-0.5b')" err
expect 0 diff <(grep -v '^#' "$tmp/qwen2-0.5b.yaml") <(grep -v '^#' model_zoo/qwen2-0.5b.yaml)
expect 0 "$bin" show model "$tmp/qwen2-0.5b.yaml"
has "494,032,768 (494 M)" out
echo '{"model_type": "gpt2", "n_embd": 768}' >"$tmp/gpt2.json"
expect 2 "$bin" import-hf tests/io/data/qwen2-0.5b.json -o "$tmp/missing/q.yaml"
is "llmroof: error: -o $tmp/missing/q.yaml: directory '$tmp/missing' does not exist" err
expect 2 "$bin" import-hf "$tmp/gpt2.json"
has "unsupported model_type 'gpt2'; supported: baichuan, chatglm, gemma, llama, mistral, mixtral, qwen2, qwen2_moe" err
printf '{"model_type": "llama",\n "hidden_size": 4096\n' >"$tmp/trunc.json"
expect 2 "$bin" import-hf "$tmp/trunc.json"
has "trunc.json:3:1: malformed JSON" err

finish "CLI io"
