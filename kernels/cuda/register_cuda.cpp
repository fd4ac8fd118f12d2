// The CUDA half of the kernel registry (compiled only with LLMROOF_HAVE_CUDA). Cases keep inputs on
// the host for the CPU references and copies on the device for the kernels; run() synchronizes so
// timings include the whole kernel. supported() is false without a GPU, so `kernels check` prints
// UNSUPPORTED instead of failing on machines with nvcc but no device.
#include <cuda_runtime.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/errors.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/rmsnorm.hpp"
#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/registry.hpp"

namespace llmroof::kernels {

namespace {

// One device buffer of floats, freed on destruction.
class DeviceFloats {
 public:
  explicit DeviceFloats(const std::vector<float>& host) : n_(host.size()) {
    if (cudaMalloc(reinterpret_cast<void**>(&p_), n_ * sizeof(float)) != cudaSuccess)
      throw std::runtime_error("cudaMalloc of " + std::to_string(n_ * sizeof(float)) + " bytes failed");
    cudaMemcpy(p_, host.data(), n_ * sizeof(float), cudaMemcpyHostToDevice);
    cuda::check_last_error("cudaMemcpy to device");
  }
  ~DeviceFloats() { cudaFree(p_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* get() const { return p_; }
  std::vector<float> to_host() const {
    std::vector<float> h(n_);
    cudaMemcpy(h.data(), p_, n_ * sizeof(float), cudaMemcpyDeviceToHost);
    cuda::check_last_error("cudaMemcpy to host");
    return h;
  }

 private:
  size_t n_;
  float* p_ = nullptr;
};

std::vector<float> uniform(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed);
  return v;
}

class CudaRmsnormCase : public KernelCase {
 public:
  explicit CudaRmsnormCase(const Problem& p)
      : p_(p), x_(uniform(p.m * p.n, p.seed)), g_(uniform(p.n, p.seed + 1)),
        dx_(x_), dg_(g_), dy_(std::vector<float>(x_.size(), 0.f)) {}
  void run(ThreadPool&) override {
    cuda::rmsnorm(dx_.get(), dg_.get(), dy_.get(), p_.m, p_.n, 1e-5f);
    cudaDeviceSynchronize();
  }
  void run_reference() override {
    ref_.assign(x_.size(), 0.f);
    rmsnorm_ref(x_.data(), g_.data(), ref_.data(), p_.m, p_.n, 1e-5f);
  }
  CheckResult compare() const override {
    return check_close(dy_.to_host(), ref_, {Metric::max_norm, 1e-5});
  }
  OpCost cost() const override { return rmsnorm_cost(p_.m, p_.n, 4); }
  size_t working_set_bytes() const override { return (2 * x_.size() + g_.size()) * 4; }

 private:
  Problem p_;
  std::vector<float> x_, g_, ref_;
  DeviceFloats dx_, dg_, dy_;
};

class CudaDecodeCase : public KernelCase {
 public:
  explicit CudaDecodeCase(const Problem& p)
      : d_(dims(p)), q_(uniform(p.batch * p.q_heads * p.head_dim, p.seed)),
        k_(uniform(p.batch * p.kv_len * p.kv_heads * p.head_dim, p.seed + 1)),
        v_(uniform(p.batch * p.kv_len * p.kv_heads * p.head_dim, p.seed + 2)), dq_(q_), dk_(k_),
        dv_(v_), do_(std::vector<float>(q_.size(), 0.f)) {}
  void run(ThreadPool&) override {
    cuda::attention_decode(dq_.get(), dk_.get(), dv_.get(), do_.get(), d_.batch, d_.q_heads,
                           d_.kv_heads, d_.head_dim, d_.kv_len, d_.capacity(), d_.softmax_scale());
    cudaDeviceSynchronize();
  }
  void run_reference() override {
    ref_.assign(q_.size(), 0.f);
    KvCacheView kv;
    kv.k = k_.data();
    kv.v = v_.data();
    attention_ref(q_.data(), kv, ref_.data(), d_);
  }
  CheckResult compare() const override {
    return check_close(do_.to_host(), ref_, {Metric::max_norm, 1e-4});
  }
  OpCost cost() const override {
    AttentionShape s;
    s.batch = d_.batch;
    s.q_heads = d_.q_heads;
    s.kv_heads = d_.kv_heads;
    s.head_dim = d_.head_dim;
    s.q_len = 1;
    s.kv_len = d_.kv_len;
    s.act_bytes = 4;
    s.kv = DType::fp32;
    return fused_attention_cost(s);
  }
  size_t working_set_bytes() const override { return (k_.size() + v_.size() + 2 * q_.size()) * 4; }

 private:
  static AttentionDims dims(const Problem& p) {
    AttentionDims d;
    d.batch = p.batch;
    d.q_heads = p.q_heads;
    d.kv_heads = p.kv_heads;
    d.head_dim = p.head_dim;
    d.q_len = 1;
    d.kv_len = p.kv_len;
    if (p.q_len != 1) throw InputError("cuda_attention_decode_fp32 takes --q-len 1");
    if (p.head_dim % 32 || p.head_dim > 256) throw InputError("--head-dim must be a multiple of 32, <= 256");
    validate(d);
    return d;
  }
  AttentionDims d_;
  std::vector<float> q_, k_, v_, ref_;
  DeviceFloats dq_, dk_, dv_, do_;
};

bool has_gpu() { return cuda::device_count() > 0; }

}  // namespace

void register_cuda_kernels(KernelRegistry& r) {
  KernelEntry e;
  e.name = "cuda_rmsnorm";
  e.op = Op::rmsnorm;
  e.dtypes = "x:fp32 gamma:fp32 y:fp32";
  e.isa = "cuda";
  e.supported = has_gpu;
  e.make = [](const Problem& p) { return std::make_unique<CudaRmsnormCase>(p); };
  r.add(e);
  e.name = "cuda_attention_decode_fp32";
  e.op = Op::attention_decode;
  e.dtypes = "q,o:fp32 kv:fp32";
  e.make = [](const Problem& p) { return std::make_unique<CudaDecodeCase>(p); };
  r.add(e);
}

}  // namespace llmroof::kernels
