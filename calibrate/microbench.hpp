#pragma once
// Micro-benchmarks of the host: read / copy bandwidth by working-set size, the peak throughput of each
// instruction path the kernels use, and the thread pool's fork/join (dispatch) overhead. Each returns
// medians of repetitions; the caller decides what goes into the HardwareSpec (calibrate.hpp).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/dtype.hpp"
#include "calibrate/timing.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::calibrate {

struct BandwidthPoint {
  std::string level;               // "L1", "L2", "LLC", "DRAM"
  double bytes_per_thread = 0;     // working set of each thread (source array; copy uses 2x)
  double read_bytes_per_s = 0;     // all threads together, bytes loaded
  double copy_bytes_per_s = 0;     // STREAM counting: bytes read + bytes written
  double read_spread = 0;          // relative inter-quartile spread of the read samples
  std::vector<double> read_samples_bytes_per_s;  // each read sample's rate (pooled for DRAM)
};

// Reads with wide loads into independent accumulators; copies with ordinary (write-allocating)
// stores, as the kernels do. Each thread owns and first-touches its slice.
BandwidthPoint measure_bandwidth(kernels::ThreadPool& pool, std::string level,
                                 size_t bytes_per_thread, double min_time_s,
                                 const TimingPolicy& policy = {});

// Read bandwidth only (no copy arrays): validate's check of the device's state before and after a
// run, with the same loop as measure_bandwidth's read.
double measure_read_bandwidth(kernels::ThreadPool& pool, size_t bytes_per_thread,
                              double min_time_s, const TimingPolicy& policy = {});

// The reference of a memory-bound kernel's paired measurement (calibrate/paired.hpp): the read loop
// of measure_bandwidth over the next window of a DRAM-sized buffer (each thread its own slice), so
// every call streams from DRAM. Same loop, same 2 MiB pages, same threads as the DRAM figure.
class DramReadReference {
 public:
  DramReadReference(kernels::ThreadPool& pool, double total_bytes);
  ~DramReadReference();
  DramReadReference(const DramReadReference&) = delete;
  DramReadReference& operator=(const DramReadReference&) = delete;
  // Reads about `bytes` in all (rounded to whole 512-byte blocks per thread, at most the buffer);
  // returns the bytes read.
  double read(double bytes);

 private:
  struct Impl;
  kernels::ThreadPool& pool_;
  std::unique_ptr<Impl> impl_;
};

// The reference of a compute-bound kernel's paired measurement: measure_peaks' loop for `dtype`
// (fp32 FMA, bf16 dot, int8: AMX tdpbusd or VNNI, as measure_peaks) on every thread for about `ops`
// operations in all; returns the ops executed (0 when this CPU has no such loop).
double run_peak_loop(kernels::ThreadPool& pool, DType dtype, double ops);

// What the analyzer's cache-residency model needs (docs/calibrate.md, "Caches"): how fast an op
// reads back a tensor the op before it wrote, and whether ordinary stores read their lines first.
struct CacheProbe {
  double reread_bytes = 0;            // the tensor: a quarter of the modelled capacity, all threads
  double reread_bytes_per_s = 0;      // written once after a flush, then read once: bytes / time
  double reread_spread = 0;           // relative inter-quartile spread of those samples
  bool nt_copy_measured = false;      // false where the CPU has no non-temporal stores we use
  double copy_over_nt_copy = 0;       // time of a DRAM-sized copy with ordinary stores / the same
                                      // copy with non-temporal stores (medians of alternated runs)
  double update_over_read = 0;        // time of an in-place update pass over a DRAM-sized buffer /
                                      // a read pass over it: 1 + what a written-back byte costs
};

// Writes and then reads back capacity_bytes / 4 after streaming 2 x llc_bytes to flush the caches,
// and times copies over DRAM-sized buffers (>= 4 x llc_bytes, >= 256 MiB) with both kinds of store,
// and an in-place update (x *= s, ordinary stores) against a read of the same buffer.
CacheProbe measure_cache_probe(kernels::ThreadPool& pool, double capacity_bytes, double llc_bytes,
                               bool quick, const TimingPolicy& policy = {});

struct PeakPoint {
  DType dtype;              // which dense_ops_per_s entry it measures
  // "vfmadd231ps zmm", "vdpbf16ps zmm", "vpdpbusd zmm", "tdpbusd tmm (AMX)", "tdpbf16ps tmm (AMX)"
  std::string instruction;
  double ops_per_s = 0;     // all threads; a multiply-add counts 2
  bool in_spec = true;      // false: measured for the record (notes, stderr), not the dtype's peak
};

// Peak throughput of each path present on this CPU, no memory traffic: the SIMD loops (16
// independent accumulators), and where the W8A8 GEMM runs on AMX tiles the tdpbusd loop as the
// int8 peak (the vpdpbusd one then comes after it, in_spec false), where the bf16-weight GEMM does
// the tdpbf16ps loop as the bf16 peak (vdpbf16ps after it, in_spec false).
std::vector<PeakPoint> measure_peaks(kernels::ThreadPool& pool, double min_time_s,
                                     const TimingPolicy& policy = {});

// Median time of pool.run() with an empty job: the fixed cost every kernel launch pays.
double measure_dispatch_overhead(kernels::ThreadPool& pool, double min_time_s,
                                 const TimingPolicy& policy = {});

}  // namespace llmroof::calibrate
