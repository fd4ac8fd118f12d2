#pragma once
// Runtime CPU feature detection for kernel dispatch.
#include <string>

namespace llmroof::kernels {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx512_fp16 = false, avx_vnni = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
  std::string brand;  // CPU model string
  std::string summary() const;  // "avx512f avx512_vnni avx512_bf16 ..."
};

const CpuFeatures& cpu_features();  // detected once (thread-safe static)

// AMX needs the kernel's permission to use tile data; returns false if refused or absent.
bool enable_amx();

}  // namespace llmroof::kernels
