#pragma once
// Registry entries of the non-GEMM CPU kernels (register_cpu.cpp calls these).
#include <string>

#include "kernels/cpu/attention.hpp"
#include "kernels/registry.hpp"

namespace llmroof::kernels {

void register_rowwise_kernels(KernelRegistry& r);    // rmsnorm, add_rmsnorm, rope, silu_mul, softmax
void register_attention_kernels(KernelRegistry& r);  // attention_prefill, attention_decode_{fp32,bf16,int8}

// The path the row-wise kernels take here: "avx512f", "avx2" or "scalar" (the reference loops).
std::string rowwise_isa();

// The attention shape of a registry Problem, validated (InputError naming the options otherwise):
// what the attention cases run, and what tests ask the path predicates about.
AttentionDims attention_dims(const Problem& p);

}  // namespace llmroof::kernels
