// Catalog: every shipped file loads (as embedded and from disk), names, search paths, paths.
#include <doctest/doctest.h>

#include "tests/io/error_of.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>

#include "io/catalog.hpp"

using namespace llmroof;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) { return test::input_error_of(f); }

std::vector<std::string> stems(const char* dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(LLMROOF_SOURCE_DIR) / dir))
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A scratch directory under the build tree's temp area, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("llmroof_catalog_test_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const fs::path& rel, const std::string& text) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << text;
  }
};

}  // namespace

TEST_CASE("the embedded zoo and db are exactly the files in the source tree, and all load") {
  const Catalog cat;
  CHECK(cat.model_names() == stems("model_zoo"));
  CHECK(cat.hardware_names() == stems("hardware_db"));
  for (const std::string& n : cat.model_names()) {
    CAPTURE(n);
    CHECK(cat.model(n).name == n);
    // From disk, by path, too.
    CHECK(cat.model(std::string(LLMROOF_SOURCE_DIR) + "/model_zoo/" + n + ".yaml").name == n);
  }
  for (const std::string& n : cat.hardware_names()) {
    CAPTURE(n);
    const HardwareSpec h = cat.hardware(n);
    CHECK(h.name == n);
    CHECK(h.sources.count("memory_bandwidth_bytes_per_s") == 1);
    CHECK(cat.hardware(std::string(LLMROOF_SOURCE_DIR) + "/hardware_db/" + n + ".yaml").name == n);
  }
}

TEST_CASE("the zoo and db hold at least the required entries") {
  const Catalog cat;
  for (const char* n : {"llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b",
                        "llama-3.1-405b", "qwen2-0.5b", "qwen2-7b", "qwen2-72b", "qwen2-57b-a14b",
                        "qwen1.5-moe-a2.7b", "mixtral-8x7b", "chatglm3-6b", "baichuan2-7b",
                        "baichuan2-13b", "tiny-test"})
    CHECK_NOTHROW(cat.model(n));
  for (const char* n : {"a100-40g-sxm", "a100-80g-sxm", "a6000", "orin-agx-64g", "kunlun2-r200",
                        "gaudi2", "h100-sxm", "h200-sxm", "l40s", "rtx4090", "mi300x",
                        "ascend-910b", "host-reference-cpu"})
    CHECK_NOTHROW(cat.hardware(n));
}

TEST_CASE("reference hardware figures") {
  const Catalog cat;
  const HardwareSpec a6000 = cat.hardware("a6000");
  CHECK(a6000.memory_bandwidth_bytes_per_s == 768e9);
  CHECK(*a6000.peak(DType::fp16) == doctest::Approx(154.8e12).epsilon(1e-12));
  CHECK(*a6000.ridge_ops_per_byte(DType::fp16) == doctest::Approx(201.5625));
  const HardwareSpec a100 = cat.hardware("a100-80g-sxm");
  CHECK(a100.interconnect_bandwidth_bytes_per_s == 300e9);  // 600 GB/s bidirectional
  CHECK(*a100.sparse_ops_per_s[static_cast<int>(DType::fp16)] == 624e12);
  CHECK(*a100.peak(DType::fp16) == 312e12);
  CHECK(cat.hardware("h100-sxm").interconnect_bandwidth_bytes_per_s == 450e9);
  CHECK(cat.hardware("kunlun2-r200").low_confidence);
  CHECK(cat.hardware("ascend-910b").low_confidence);
  CHECK_FALSE(cat.hardware("gaudi2").peak(DType::fp32));
  const HardwareSpec cpu = cat.hardware("host-reference-cpu");
  CHECK(cpu.kind == DeviceKind::cpu);
  CHECK(*cpu.peak(DType::fp32) == doctest::Approx(482e9));
  CHECK(cpu.memory_bandwidth_bytes_per_s == 34e9);
}

TEST_CASE("unknown names list the closest ones") {
  const Catalog cat;
  CHECK(error_of([&] { cat.model("llama2-7b"); }) ==
        "unknown model 'llama2-7b'; did you mean: llama-2-7b, llama-2-70b, llama-2-13b?");
  CHECK(error_of([&] { cat.hardware("a600"); }) ==
        "unknown hardware 'a600'; did you mean: a6000?");
  CHECK(error_of([&] { cat.hardware("zzzzzzzzzzzzzzzzzzzzzzzz"); })
            .starts_with("unknown hardware 'zzzzzzzzzzzzzzzzzzzzzzzz'; known: a100-40g-sxm, "));
  CHECK(error_of([&] { cat.model("no/such/file.yaml"); }) ==
        "cannot read 'no/such/file.yaml': No such file or directory");
}

TEST_CASE("search paths override and extend the built-in entries") {
  TempDir dir;
  const std::string tiny = "name: tiny-test\nfamily: llama\nhidden_size: 128\nnum_layers: 1\n"
                           "num_attention_heads: 2\nnum_key_value_heads: 2\nintermediate_size: 256\n"
                           "vocab_size: 100\nmax_position_embeddings: 64\nactivation: silu\n"
                           "gated_mlp: true\nnorm: rmsnorm\npositional_encoding: rope\n"
                           "qkv_bias: false\ntied_embeddings: false\n";
  dir.write("model_zoo/tiny-test.yaml", tiny);  // overrides the built-in tiny-test
  dir.write("my-model.yaml", "# flat directory: classified by its keys\n" +
                                 std::string(tiny).replace(6, 9, "my-model"));
  dir.write("hardware_db/my-gpu.yaml",
            "name: my-gpu\nvendor: me\nkind: gpu\n"
            "memory_capacity_gb: {value: 1, source: s}\n"
            "memory_bandwidth_gb_per_s: {value: 10, source: s}\n"
            "dense_tops:\n  fp16: {value: 1, source: s}\n");
  dir.write("model_zoo/misnamed.yaml", tiny);
  const Catalog cat({dir.path.string()});
  CHECK(cat.model("tiny-test").hidden_size == 128);
  CHECK(cat.model("my-model").name == "my-model");
  CHECK(cat.hardware("my-gpu").memory_bandwidth_bytes_per_s == 10e9);
  CHECK(cat.model("llama-2-7b").hidden_size == 4096);  // built-ins are still there
  const auto names = cat.model_names();
  CHECK(std::count(names.begin(), names.end(), "my-model") == 1);
  CHECK(std::count(names.begin(), names.end(), "tiny-test") == 1);
  const auto hw_names = cat.hardware_names();
  CHECK(std::count(hw_names.begin(), hw_names.end(), "my-model") == 0);
  CHECK(error_of([&] { cat.model("misnamed"); }) ==
        (dir.path / "model_zoo/misnamed.yaml").string() +
            ": declares name 'tiny-test' but the file is misnamed.yaml; the two must agree");
}

TEST_CASE("a model given as config.json or as a checkpoint directory") {
  const Catalog cat;
  const std::string data = std::string(LLMROOF_SOURCE_DIR) + "/tests/io/data";
  CHECK(cat.model(data + "/llama-2-7b.json").hidden_size == 4096);
  TempDir dir;
  dir.write("Some-Model/config.json", R"({"model_type": "qwen2", "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
    "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 131072,
    "tie_word_embeddings": true})");
  const ModelSpec m = cat.model((dir.path / "Some-Model").string());
  CHECK(m.name == "Some-Model");
  CHECK(m.tied_embeddings);
}
