//===- Sampler.h - choosing the next token from logits ----------*- C++ -*-===//
//
// Greedy, temperature, top-k and top-p (nucleus) sampling with a seeded,
// portable random number generator (xoshiro256** seeded by splitmix64): the
// same seed and logits give the same tokens on every machine. The filters
// apply in the order of Hugging Face transformers: logits / temperature, then
// top-k, then top-p on the softmax of what is left, then a draw from the
// renormalised distribution. (llama.cpp's default chain applies temperature
// after top-k/top-p; the two agree when temperature is 1 or top-p is off.)
//
// Plain C++ with no LLVM/MLIR dependency and no exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_RUNTIME_SAMPLER_H
#define KVANT_LIB_RUNTIME_SAMPLER_H

#include <cstdint>
#include <string>
#include <vector>

namespace kvant::runtime {

struct SamplingParams {
  /// 0 selects greedy decoding (argmax; the lowest id on ties).
  float temperature = 0.0f;
  /// Keep the k most likely tokens; 0 keeps all.
  int topK = 0;
  /// Keep the smallest set of most likely tokens whose probability reaches
  /// topP; 1 keeps all.
  float topP = 1.0f;
  uint64_t seed = 0;
};

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64.
class Rng {
public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  uint64_t state[4];
};

class Sampler {
public:
  explicit Sampler(const SamplingParams &params);

  /// Checks temperature >= 0 (and finite), top_p in (0, 1], top_k >= 0.
  static bool validate(const SamplingParams &params, std::string &error);

  /// Picks a token from `vocab` logits; -1 when vocab <= 0. NaN logits never
  /// win. Parameters must have passed validate().
  int32_t sample(const float *logits, int vocab);

  const SamplingParams &getParams() const { return params; }

private:
  SamplingParams params;
  Rng rng;
  std::vector<std::pair<float, int32_t>> candidates; ///< Reused scratch.
  std::vector<double> probs;
};

/// Index of the largest logit (the lowest on ties; NaN ignored); -1 when
/// vocab <= 0.
int32_t argmax(const float *logits, int vocab);

/// log softmax of `logits` into `out` (vocab entries), computed stably in
/// double precision.
void logSoftmax(const float *logits, int vocab, double *out);

/// Negative log-likelihood -log softmax(logits)[target], for perplexity;
/// NaN when `target` is out of range or vocab <= 0.
double tokenNll(const float *logits, int vocab, int32_t target);

} // namespace kvant::runtime

#endif // KVANT_LIB_RUNTIME_SAMPLER_H
