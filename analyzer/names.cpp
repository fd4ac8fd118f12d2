// Canonical spellings of the analyzer's enums (used by YAML, the CLI and every printer).
#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"
#include "analyzer/settings.hpp"

namespace llmroof {

std::string_view to_string(Activation a) {
  switch (a) {
    case Activation::silu: return "silu";
    case Activation::gelu: return "gelu";
    case Activation::gelu_tanh: return "gelu_tanh";
    case Activation::relu: return "relu";
  }
  return "?";
}
std::string_view to_string(NormType n) { return n == NormType::rmsnorm ? "rmsnorm" : "layernorm"; }
std::string_view to_string(PositionalEncoding p) {
  switch (p) {
    case PositionalEncoding::rope: return "rope";
    case PositionalEncoding::alibi: return "alibi";
    case PositionalEncoding::learned: return "learned";
    case PositionalEncoding::none: return "none";
  }
  return "?";
}
std::string_view to_string(DeviceKind k) {
  switch (k) {
    case DeviceKind::gpu: return "gpu";
    case DeviceKind::npu: return "npu";
    case DeviceKind::xpu: return "xpu";
    case DeviceKind::cpu: return "cpu";
  }
  return "?";
}
std::string_view to_string(Mode m) { return m == Mode::roofline ? "roofline" : "realistic"; }
std::string_view to_string(Phase p) { return p == Phase::prefill ? "prefill" : "decode"; }
std::string_view to_string(Bound b) {
  switch (b) {
    case Bound::compute: return "compute";
    case Bound::memory: return "memory";
    case Bound::communication: return "communication";
  }
  return "?";
}
std::string_view to_string(RateClass c) {
  switch (c) {
    case RateClass::general: return "general";
    case RateClass::weights: return "weights";
    case RateClass::attention: return "attention";
    case RateClass::communication: return "communication";
  }
  return "?";
}

}  // namespace llmroof
