#pragma once
// Hand-built specs for the analyzer tests, so they do not depend on the YAML loaders. Numbers from
// shared/reference (HF configs, hardware-specs.md).
#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"

namespace llmroof::test {

inline ModelSpec llama2_7b() {
  ModelSpec m;
  m.name = "llama-2-7b";
  m.hidden_size = 4096;
  m.num_layers = 32;
  m.num_attention_heads = 32;
  m.num_key_value_heads = 32;
  m.head_dim = 128;
  m.intermediate_size = 11008;
  m.vocab_size = 32000;
  m.max_position_embeddings = 4096;
  return m;
}

inline ModelSpec llama2_70b() {
  ModelSpec m = llama2_7b();
  m.name = "llama-2-70b";
  m.hidden_size = 8192;
  m.num_layers = 80;
  m.num_attention_heads = 64;
  m.num_key_value_heads = 8;
  m.intermediate_size = 28672;
  return m;
}

inline ModelSpec mixtral_8x7b() {
  ModelSpec m = llama2_7b();
  m.name = "mixtral-8x7b";
  m.num_key_value_heads = 8;
  m.intermediate_size = 14336;
  m.vocab_size = 32000;
  MoeSpec moe;
  moe.num_experts = 8;
  moe.experts_per_token = 2;
  moe.expert_intermediate_size = 14336;
  m.moe = moe;
  return m;
}

// The table's A6000: 768 GB/s, 154.8 TOPS fp16 dense; a pure roofline (efficiency 1, no launch cost).
inline HardwareSpec a6000() {
  HardwareSpec hw;
  hw.name = "a6000";
  hw.memory_bytes = 48e9;
  hw.memory_bandwidth_bytes_per_s = 768e9;
  hw.dense_ops_per_s[static_cast<int>(DType::fp32)] = 38.7e12;
  hw.dense_ops_per_s[static_cast<int>(DType::tf32)] = 77.4e12;
  hw.dense_ops_per_s[static_cast<int>(DType::fp16)] = 154.8e12;
  hw.dense_ops_per_s[static_cast<int>(DType::bf16)] = 154.8e12;
  hw.dense_ops_per_s[static_cast<int>(DType::int8)] = 309.7e12;
  hw.onchip_bytes_per_core = 100 * 1024;
  hw.num_cores = 84;
  hw.interconnect_bandwidth_bytes_per_s = 56.25e9;
  hw.interconnect_latency_s = 5e-6;
  hw.devices_per_node = 2;
  return hw;
}

inline HardwareSpec h100() {
  HardwareSpec hw;
  hw.name = "h100";
  hw.memory_bytes = 80e9;
  hw.memory_bandwidth_bytes_per_s = 3.35e12;
  hw.dense_ops_per_s[static_cast<int>(DType::fp32)] = 66.9e12;
  hw.dense_ops_per_s[static_cast<int>(DType::fp16)] = 989.4e12;
  hw.dense_ops_per_s[static_cast<int>(DType::bf16)] = 989.4e12;
  hw.dense_ops_per_s[static_cast<int>(DType::fp8)] = 1978.9e12;
  hw.dense_ops_per_s[static_cast<int>(DType::int8)] = 1978.9e12;
  hw.onchip_bytes_per_core = 228 * 1024;
  hw.num_cores = 132;
  hw.interconnect_bandwidth_bytes_per_s = 450e9;
  hw.interconnect_latency_s = 3e-6;
  hw.devices_per_node = 8;
  return hw;
}

}  // namespace llmroof::test
