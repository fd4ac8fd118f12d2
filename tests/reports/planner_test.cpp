#include "reports/planner.hpp"

#include <doctest/doctest.h>

#include "tests/reports/fake_analysis.hpp"

using namespace llmroof;
using namespace llmroof::reports;
using llmroof::testing::fake_analyze;
using llmroof::testing::fake_hardware;
using llmroof::testing::fake_model;

TEST_CASE("continuous batching formulas, by hand") {
  // t_pre 0.2 s, t_dec 0.02 s, B 64, G 128: a = 0.5 arrivals per step.
  ServingEstimate e = continuous_batching(0.2, 0.02, 64, 128);
  CHECK(e.tpot_s == doctest::Approx(0.02 + 0.5 * 0.2));  // 0.12 s
  CHECK(e.ttft_s == doctest::Approx(0.02 + 1 * 0.2));    // ceil(0.5) = 1 prefill ahead
  CHECK(e.output_tokens_per_s == doctest::Approx(64 / 0.12));
  CHECK(e.requests_per_s == doctest::Approx(64 / 0.12 / 128));
  // B 300, G 100: a = 3, three prefills run back to back before the next step.
  e = continuous_batching(0.2, 0.02, 300, 100);
  CHECK(e.tpot_s == doctest::Approx(0.62));
  CHECK(e.ttft_s == doctest::Approx(0.62));
  // a = 2.5 rounds up to 3 prefills for TTFT.
  e = continuous_batching(0.1, 0.01, 250, 100);
  CHECK(e.ttft_s == doctest::Approx(0.01 + 3 * 0.1));
  CHECK(e.tpot_s == doctest::Approx(0.01 + 2.5 * 0.1));
}

namespace {
const PlanCandidate* find(const PlanResult& r, DType w, int64_t tp, int64_t batch) {
  for (const auto& c : r.candidates)
    if (c.settings.quant.weights == w && c.settings.tp == tp && c.settings.batch == batch)
      return &c;
  return nullptr;
}

PlanResult toy_plan(std::optional<double> rate = std::nullopt) {
  PlanRequest req;
  req.prompt_len = 1000;
  req.gen_len = 100;
  req.ttft_slo_s = 0.5;
  req.tpot_slo_s = 0.05;
  req.weights = {DType::fp16, DType::int4};
  req.tp = {1, 2, 3, 4};
  req.batch = {1, 2, 4, 8, 16, 32, 64};
  req.rate_requests_per_s = rate;
  return plan(fake_model(), {fake_hardware("gpu-a", 24e9, 3)}, req, fake_analyze);
}
}  // namespace

TEST_CASE("plan: memory, SLOs and refinement, checked by hand") {
  const PlanResult r = toy_plan();
  // fp16 tp1: 20 GB weights + 1 GB per request fits 4 requests in 24 GB.
  const PlanCandidate* c = find(r, DType::fp16, 1, 4);
  REQUIRE(c);
  CHECK(c->verdict == PlanVerdict::feasible);
  CHECK(c->prefill_s == doctest::Approx(0.1));              // 1000 tokens * 1e-4 s
  CHECK(c->decode_step_s == doctest::Approx(0.024));        // 0.02 + 4 * 0.001
  CHECK(c->tpot_s == doctest::Approx(0.024 + 0.04 * 0.1));  // a = 4/100
  CHECK(c->ttft_s == doctest::Approx(0.024 + 0.1));
  CHECK(c->output_tokens_per_s_per_device == doctest::Approx(4 / 0.028));
  CHECK(find(r, DType::fp16, 1, 8)->verdict == PlanVerdict::no_fit);
  // Nothing fits between 4 and 8, so no refined candidate is added.
  CHECK(find(r, DType::fp16, 1, 5) == nullptr);

  // fp16 tp2: 10 GB + 0.5 GB per request per device: fits up to 28, found by bisection.
  c = find(r, DType::fp16, 2, 28);
  REQUIRE(c);
  CHECK(c->verdict == PlanVerdict::feasible);
  CHECK(c->decode_step_s == doctest::Approx((0.02 + 0.028) / 2));
  CHECK(c->tpot_s == doctest::Approx(0.024 + 0.28 * 0.05));
  CHECK(find(r, DType::fp16, 2, 29) == nullptr);
  // int4 tp1: 5 GB + 1 GB per request: 19; int4 tp2: 2.5 GB + 0.5 GB: 43.
  CHECK(find(r, DType::int4, 1, 19));
  CHECK(find(r, DType::int4, 2, 43));
  CHECK(find(r, DType::int4, 2, 43)->tpot_s == doctest::Approx(0.024 + 0.43 * 0.05));

  // tp 3 is refused by the analyzer, tp 4 exceeds the 3 devices per node.
  CHECK(find(r, DType::fp16, 3, 1)->verdict == PlanVerdict::refused);
  CHECK(find(r, DType::fp16, 3, 1)->error == "tp 3 does not divide 32 attention heads");
  CHECK(find(r, DType::int4, 4, 64)->verdict == PlanVerdict::tp_exceeds_node);
}

TEST_CASE("plan: SLO verdicts") {
  PlanRequest req;
  req.prompt_len = 1000;
  req.gen_len = 100;
  req.ttft_slo_s = 0.12;  // fp16 tp1: TTFT = 0.02 + 0.001 B + 0.1 > 0.12 for any B >= 1
  req.tpot_slo_s = 0.05;
  req.weights = {DType::fp16, DType::int4};
  req.tp = {1};
  req.batch = {1, 16};
  const PlanResult r = plan(fake_model(), {fake_hardware("gpu-a", 80e9, 1)}, req, fake_analyze);
  CHECK(find(r, DType::fp16, 1, 1)->verdict == PlanVerdict::ttft_slo);
  // int4, B 1: TTFT = 0.005 + 0.001 + 0.1 = 0.106 s meets 0.12; TPOT 0.006 + 0.001 meets 0.05.
  CHECK(find(r, DType::int4, 1, 1)->verdict == PlanVerdict::feasible);
  // int4, B 16: TTFT = 0.021 + 0.1 = 0.121 s misses 0.12.
  CHECK(find(r, DType::int4, 1, 16)->verdict == PlanVerdict::ttft_slo);
  req.ttft_slo_s = 1;
  req.tpot_slo_s = 0.02;
  req.batch = {16};
  // int4, B 16: TPOT = 0.021 + 0.16 * 0.1 = 0.037 s misses 20 ms.
  const PlanResult r2 = plan(fake_model(), {fake_hardware("gpu-a", 80e9, 1)}, req, fake_analyze);
  CHECK(find(r2, DType::int4, 1, 16)->verdict == PlanVerdict::tpot_slo);
}

TEST_CASE("plan: ranking and Pareto set on hand-made candidates") {
  PlanResult r;
  r.hardware = {fake_hardware("gpu-a", 24e9, 8)};
  auto cand = [](double tps, double tpot, PlanVerdict v = PlanVerdict::feasible) {
    PlanCandidate c;
    c.output_tokens_per_s_per_device = tps;
    c.tpot_s = tpot;
    c.verdict = v;
    return c;
  };
  // A(100, 20 ms) B(200, 30 ms) C(150, 40 ms) D(200, 50 ms) E(50, 10 ms) F infeasible.
  r.candidates = {cand(100, 0.02), cand(200, 0.03), cand(150, 0.04),
                  cand(200, 0.05), cand(50, 0.01),  cand(1000, 0.001, PlanVerdict::no_fit)};
  rank_candidates(r);
  CHECK(r.candidates[1].rank == 1);  // B: tie with D on throughput, lower TPOT
  CHECK(r.candidates[3].rank == 2);
  CHECK(r.candidates[2].rank == 3);
  CHECK(r.candidates[0].rank == 4);
  CHECK(r.candidates[4].rank == 5);
  CHECK(r.candidates[5].rank == 0);
  REQUIRE(r.pareto.size() == 1);
  CHECK(r.pareto[0] == std::vector<size_t>{1, 0, 4});  // B, A, E in rank order
  CHECK_FALSE(r.candidates[2].pareto);
  CHECK_FALSE(r.candidates[3].pareto);
  CHECK_FALSE(r.candidates[5].pareto);

  // A second hardware is ranked on its own and leaves the first one's ranks alone.
  r.hardware.push_back(fake_hardware("gpu-b", 24e9, 8));
  r.candidates.push_back(cand(10, 0.5));
  r.candidates.back().hardware = 1;
  rank_candidates(r);
  CHECK(r.candidates[1].rank == 1);
  CHECK(r.candidates[6].rank == 1);
  CHECK(r.pareto[1] == std::vector<size_t>{6});
}

TEST_CASE("plan: with a request rate, fewest devices rank first") {
  const PlanResult r = toy_plan(10.0);
  // fp16 tp1 B4: 4 / 0.028 = 142.9 tokens/s = 1.43 requests/s -> 7 replicas of 1 device.
  CHECK(find(r, DType::fp16, 1, 4)->devices_for_rate == 7);
  // int4 tp2 B43: 43 / 0.0455 = 945 tokens/s = 9.45 requests/s -> 2 replicas of 2 devices.
  CHECK(find(r, DType::int4, 2, 43)->devices_for_rate == 4);
  const PlanCandidate* best = nullptr;
  for (const auto& c : r.candidates)
    if (c.rank == 1) best = &c;
  REQUIRE(best);
  int64_t fewest = 1 << 30;
  for (const auto& c : r.candidates)
    if (c.verdict == PlanVerdict::feasible) fewest = std::min(fewest, c.devices_for_rate);
  CHECK(best->devices_for_rate == fewest);
}
