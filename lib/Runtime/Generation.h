//===- Generation.h - decoding and scoring loops over a model ---*- C++ -*-===//
//
// The loops kvant-run and the Python package both run around a compiled
// model: sampling tokens after a prompt, and scoring a text (perplexity).
// They only move tokens and logits; the math runs in the compiled model.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_RUNTIME_GENERATION_H
#define KVANT_LIB_RUNTIME_GENERATION_H

#include "lib/Runtime/CompiledModel.h"
#include "lib/Runtime/Sampler.h"
#include "lib/Runtime/Tokenizer.h"

#include <functional>
#include <string>
#include <vector>

namespace kvant::runtime {

/// Samples up to `n` tokens, the first from `lastLogits` (the last row the
/// model produced, usually the prompt's), feeding each one back through
/// `model`. Stops after an end-of-generation token, which is appended to
/// `tokens` but adds no text. `text` receives the decoded text when a
/// tokenizer is given; `onText` sees each complete piece as it appears and
/// `onLogits` each row a decode step produced.
bool sampleTokens(
    CompiledModel &model, const Tokenizer *tokenizer, Sampler &sampler,
    std::vector<float> lastLogits, int64_t n, std::vector<int32_t> &tokens,
    std::string &text, std::string &error,
    const std::function<void(const std::string &)> &onText = {},
    const std::function<void(const std::vector<float> &)> &onLogits = {});

/// Negative log-likelihood of `text`, tokenized without BOS, in
/// non-overlapping windows of `chunk` tokens (2 <= chunk <= the context
/// length), each starting with BOS and an empty cache: every token after a
/// window's BOS is scored given its predecessors.
struct TextScore {
  double totalNll = 0;
  int64_t scoredTokens = 0;
};
bool scoreText(CompiledModel &model, const Tokenizer &tokenizer,
               const std::string &text, int64_t chunk, TextScore &score,
               std::string &error);

} // namespace kvant::runtime

#endif // KVANT_LIB_RUNTIME_GENERATION_H
