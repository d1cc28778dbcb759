//===- Generation.cpp - decoding and scoring loops over a model -----------===//

#include "lib/Runtime/Generation.h"

using namespace kvant::runtime;

bool kvant::runtime::sampleTokens(
    CompiledModel &model, const Tokenizer *tokenizer, Sampler &sampler,
    std::vector<float> lastLogits, int64_t n, std::vector<int32_t> &tokens,
    std::string &text, std::string &error,
    const std::function<void(const std::string &)> &onText,
    const std::function<void(const std::vector<float> &)> &onLogits) {
  int vocab = static_cast<int>(model.getVocabSize());
  std::unique_ptr<StreamDecoder> stream;
  if (tokenizer)
    stream = std::make_unique<StreamDecoder>(*tokenizer);
  auto emit = [&](const std::string &piece) {
    text += piece;
    if (onText && !piece.empty())
      onText(piece);
  };
  std::vector<float> logits = std::move(lastLogits);
  for (int64_t step = 0; step < n; ++step) {
    int32_t next = sampler.sample(logits.data(), vocab);
    tokens.push_back(next);
    if (tokenizer && tokenizer->isEog(next))
      break;
    if (stream)
      emit(stream->push(next));
    if (step + 1 == n)
      break;
    if (!model.forward({next}, logits, error))
      return false;
    if (onLogits)
      onLogits(logits);
  }
  if (stream)
    emit(stream->finish());
  return true;
}

bool kvant::runtime::scoreText(CompiledModel &model, const Tokenizer &tokenizer,
                               const std::string &text, int64_t chunk,
                               TextScore &score, std::string &error) {
  std::vector<int32_t> ids = tokenizer.encode(text, /*addBos=*/false);
  std::vector<float> logits;
  int64_t vocab = model.getVocabSize();
  for (size_t begin = 0; begin + 1 < ids.size(); begin += chunk - 1) {
    std::vector<int32_t> window = {tokenizer.bos()};
    for (size_t i = begin;
         i < ids.size() && static_cast<int64_t>(window.size()) < chunk; ++i)
      window.push_back(ids[i]);
    model.rollback(0);
    if (!model.forward(window, logits, error))
      return false;
    for (size_t i = 0; i + 1 < window.size(); ++i) {
      score.totalNll +=
          tokenNll(&logits[i * vocab], static_cast<int>(vocab), window[i + 1]);
      ++score.scoredTokens;
    }
  }
  return true;
}
