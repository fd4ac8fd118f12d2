#pragma once
// oneDNN 2.x matmul as an optional comparator for gemm_bench: built only where CMake finds oneDNN
// (Debian: libdnnl-dev; gemm_bench is then compiled with LLMROOF_HAVE_DNNL=1). Not a dependency of
// llmroof itself. oneDNN threads with OpenMP; set_threads() sets its thread count to the pool's.
#include <cstdint>
#include <memory>
#include <string>

class DnnlMatmul {
 public:
  enum class Kind {
    f32,        // fp32 x fp32 -> fp32
    bf16,       // bf16 x bf16 -> fp32 (activations converted once, outside the timed call)
    u8s8,       // u8 x s8 -> fp32, per-column output scale; activations quantized beforehand
    u8s8_quant  // what W8A8 does per call: per-token absmax quantization of fp32 x to u8 (= q +
                // 128, runtime src zero point 128), the u8 x s8 matmul, then y[i, :] *= sx[i]
                // (a separate pass: 2.6's per-row post-op is reference code only), so
                // y = sx[i] * sw[j] * sum_k q_x q_w, exactly our W8A8's output.
  };
  // Weights are reordered once into oneDNN's preferred blocked layout (format_tag::any), as an
  // inference engine would at load time; `weight_copies` copies are rotated for DRAM-bound GEMVs.
  DnnlMatmul(Kind kind, int64_t m, int64_t k, int64_t n, int64_t weight_copies = 1);
  ~DnnlMatmul();
  void run();                    // one call, on the next weight copy
  double weight_bytes() const;   // bytes of one weight copy in oneDNN's layout
  std::string describe() const;  // oneDNN version, chosen implementation, threads

  static void set_threads(int threads);  // omp_set_num_threads for oneDNN's OpenMP runtime

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
