//===- Sampler.cpp - choosing the next token from logits ------------------===//

#include "lib/Runtime/Sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

using namespace kvant::runtime;

namespace {
std::string formatFloat(float value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(value));
  return buf;
}

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/// Largest finite-or-infinite logit, ignoring NaN; -inf when all are NaN.
double maxLogit(const float *logits, int vocab) {
  double best = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < vocab; ++i)
    if (logits[i] > best)
      best = logits[i];
  return best;
}
} // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t &s : state)
    s = splitmix64(x);
}

uint64_t Rng::next() {
  uint64_t result = rotl(state[1] * 5, 7) * 9;
  uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

Sampler::Sampler(const SamplingParams &params)
    : params(params), rng(params.seed) {}

bool Sampler::validate(const SamplingParams &params, std::string &error) {
  if (!(params.temperature >= 0.0f) || !std::isfinite(params.temperature)) {
    error = "temperature must be a finite number >= 0, not " +
            formatFloat(params.temperature);
    return false;
  }
  if (!(params.topP > 0.0f && params.topP <= 1.0f)) {
    error = "top_p must be in (0, 1], not " + formatFloat(params.topP);
    return false;
  }
  if (params.topK < 0) {
    error = "top_k must be >= 0, not " + std::to_string(params.topK);
    return false;
  }
  return true;
}

int32_t kvant::runtime::argmax(const float *logits, int vocab) {
  int32_t best = -1;
  for (int i = 0; i < vocab; ++i)
    if (!std::isnan(logits[i]) && (best < 0 || logits[i] > logits[best]))
      best = i;
  return vocab > 0 && best < 0 ? 0 : best;
}

int32_t Sampler::sample(const float *logits, int vocab) {
  if (vocab <= 0)
    return -1;
  if (params.temperature == 0.0f || params.topK == 1)
    return argmax(logits, vocab);

  // Candidates sorted by logit, highest first (lower id first on ties), so
  // that the result does not depend on the sort implementation.
  candidates.clear();
  candidates.reserve(vocab);
  for (int i = 0; i < vocab; ++i)
    if (!std::isnan(logits[i]))
      candidates.push_back({logits[i], i});
  if (candidates.empty())
    return 0;
  auto before = [](const std::pair<float, int32_t> &a,
                   const std::pair<float, int32_t> &b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  size_t keep = candidates.size();
  if (params.topK > 0 && static_cast<size_t>(params.topK) < keep)
    keep = params.topK;
  std::partial_sort(candidates.begin(), candidates.begin() + keep,
                    candidates.end(), before);
  candidates.resize(keep);

  // Softmax of logits / temperature, stable: the largest term is exp(0).
  double invTemp = 1.0 / params.temperature;
  double top = candidates[0].first;
  probs.resize(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) {
    double p = std::exp((candidates[i].first - top) * invTemp);
    if (std::isnan(p)) // -inf - -inf when every logit is -inf.
      p = i == 0 ? 1.0 : 0.0;
    probs[i] = p;
    sum += p;
  }

  // Top-p: the shortest prefix whose mass reaches topP (at least one token).
  if (params.topP < 1.0f) {
    double target = params.topP * sum, cumulative = 0;
    size_t cut = keep;
    for (size_t i = 0; i < keep; ++i) {
      cumulative += probs[i];
      if (cumulative >= target) {
        cut = i + 1;
        break;
      }
    }
    keep = cut;
    sum = cumulative;
  }

  double u = rng.uniform() * sum;
  double cumulative = 0;
  for (size_t i = 0; i < keep; ++i) {
    cumulative += probs[i];
    if (u < cumulative)
      return candidates[i].second;
  }
  // Rounding left u at the very top: the last token with mass.
  for (size_t i = keep; i-- > 0;)
    if (probs[i] > 0)
      return candidates[i].second;
  return candidates[0].second;
}

void kvant::runtime::logSoftmax(const float *logits, int vocab, double *out) {
  if (vocab <= 0)
    return;
  double top = maxLogit(logits, vocab);
  double sum = 0;
  for (int i = 0; i < vocab; ++i)
    sum += std::exp(static_cast<double>(logits[i]) - top);
  double logSum = top + std::log(sum);
  for (int i = 0; i < vocab; ++i)
    out[i] = static_cast<double>(logits[i]) - logSum;
}

double kvant::runtime::tokenNll(const float *logits, int vocab,
                                int32_t target) {
  if (vocab <= 0 || target < 0 || target >= vocab)
    return std::numeric_limits<double>::quiet_NaN();
  double top = maxLogit(logits, vocab);
  double sum = 0;
  for (int i = 0; i < vocab; ++i)
    sum += std::exp(static_cast<double>(logits[i]) - top);
  return top + std::log(sum) - static_cast<double>(logits[target]);
}
