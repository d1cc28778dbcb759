//===- kvant-run.cpp - generate text with a compiled model ----------------===//
//
//   kvant-run model.so --weights model.gguf -p "text" -n 64
//             [--temp T --top-k K --top-p P --seed S] [--json]
//   kvant-run model.so --weights model.gguf --tokens 1,2,3 -n 8
//   kvant-run model.so --weights model.gguf --perplexity heldout.txt
//   (--threads N: threads of an artifact compiled with parallel loops;
//    --device cuda: an artifact compiled with --target=cuda, on the GPU)
//
// Memory-maps the weights, owns the KV cache, tokenizes with the GGUF's
// tokenizer, runs the compiled entry point, samples, streams the text and
// reports prefill and decode tokens per second. Plain C++: no LLVM/MLIR.
//
//===----------------------------------------------------------------------===//

#include "lib/Runtime/CompiledModel.h"
#include "lib/Runtime/Generation.h"
#include "lib/Runtime/Sampler.h"
#include "lib/Runtime/Tokenizer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace kvant;
using namespace kvant::runtime;

namespace {
struct Options {
  std::string artifact, weights, prompt, tokens, perplexityFile, dumpLogits;
  bool havePrompt = false, json = false, noBos = false;
  int64_t numPredict = 64, pplChunk = 0, threads = 0;
  Device device = Device::CPU;
  SamplingParams sampling;
};

int usage() {
  std::fprintf(stderr,
               "usage: kvant-run MODEL.so --weights MODEL.gguf\n"
               "         (-p TEXT | --tokens ID,ID,... | --perplexity FILE)\n"
               "         [-n N] [--temp T] [--top-k K] [--top-p P] "
               "[--seed S]\n"
               "         [--threads N] [--no-bos] [--json] [--ppl-chunk N] "
               "[--dump-logits FILE]\n"
               "         [--device cpu|cuda]\n");
  return 1;
}

int fail(const std::string &message) {
  std::fprintf(stderr, "kvant-run: error: %s\n", message.c_str());
  return 1;
}

bool parseInt(const char *text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno || !end || *end || end == text)
    return false;
  out = v;
  return true;
}

bool parseFloat(const char *text, float &out) {
  char *end = nullptr;
  errno = 0;
  out = std::strtof(text, &end);
  return !errno && end && !*end && end != text;
}

bool parseTokenList(const std::string &text, std::vector<int32_t> &out) {
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    int64_t v;
    if (!parseInt(part.c_str(), v) || v < 0 || v > INT32_MAX)
      return false;
    out.push_back(static_cast<int32_t>(v));
  }
  return !out.empty();
}

/// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
size_t validUtf8Length(const std::string &s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c < 0x80           ? 1
             : (c >> 5) == 0x6  ? 2
             : (c >> 4) == 0xE  ? 3
             : (c >> 3) == 0x1E ? 4
                                : 0;
  if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2))
    return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
  return n;
}

/// A JSON string body; bytes that are not valid UTF-8 (a model may emit any
/// byte token) become U+FFFD so the output always parses.
std::string jsonEscape(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t n = validUtf8Length(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out.append(s, i, n);
    }
    i += n;
  }
  return out;
}

double seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Writes `data` to `path` through a temporary file renamed into place.
bool writeAtomically(const std::string &path, const void *data, size_t size,
                     std::string &error) {
  std::string tmp = path + ".tmp";
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
    error = "cannot write '" + path + "'";
    return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

int runPerplexity(CompiledModel &model, const Tokenizer &tokenizer,
                  const Options &opts) {
  std::ifstream in(opts.perplexityFile, std::ios::binary);
  if (!in)
    return fail("cannot read '" + opts.perplexityFile + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  int64_t chunk = opts.pplChunk > 0 ? opts.pplChunk : model.getContextLength();
  if (chunk > model.getContextLength() || chunk < 2)
    return fail("--ppl-chunk must be between 2 and the context length " +
                std::to_string(model.getContextLength()));
  TextScore score;
  std::string error;
  auto start = std::chrono::steady_clock::now();
  if (!scoreText(model, tokenizer, text, chunk, score, error))
    return fail(error);
  double nll = score.totalNll;
  int64_t scored = score.scoredTokens;
  double elapsed = seconds(start, std::chrono::steady_clock::now());
  if (scored == 0)
    return fail("'" + opts.perplexityFile + "' has too little text to score");
  double ppl = std::exp(nll / scored);
  double bpb = nll / std::log(2.0) / static_cast<double>(text.size());
  if (opts.json)
    std::printf("{\"tokens\": %lld, \"bytes\": %zu, \"nll_per_token\": %.6f, "
                "\"perplexity\": %.6f, \"bits_per_byte\": %.6f, "
                "\"tokens_per_s\": %.2f}\n",
                (long long)scored, text.size(), nll / scored, ppl, bpb,
                scored / elapsed);
  else
    std::printf("perplexity %.4f over %lld tokens (%.4f nats/token, %.4f "
                "bits/byte), %.1f tokens/s\n",
                ppl, (long long)scored, nll / scored, bpb, scored / elapsed);
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name) -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "kvant-run: error: %s needs a value\n", name);
        std::exit(1);
      }
      return argv[++i];
    };
    if (arg == "--weights") {
      opts.weights = value("--weights");
    } else if (arg == "-p" || arg == "--prompt") {
      opts.prompt = value("-p");
      opts.havePrompt = true;
    } else if (arg == "--tokens") {
      opts.tokens = value("--tokens");
    } else if (arg == "--perplexity") {
      opts.perplexityFile = value("--perplexity");
    } else if (arg == "--dump-logits") {
      opts.dumpLogits = value("--dump-logits");
    } else if (arg == "-n") {
      if (!parseInt(value("-n"), opts.numPredict) || opts.numPredict < 0)
        return fail("-n must be a non-negative integer");
    } else if (arg == "--threads" || arg == "-t") {
      if (!parseInt(value("--threads"), opts.threads) || opts.threads < 1 ||
          opts.threads > CompiledModel::kMaxThreads)
        return fail("--threads must be an integer from 1 to " +
                    std::to_string(CompiledModel::kMaxThreads));
    } else if (arg == "--device") {
      std::string name = value("--device");
      if (name == "cpu")
        opts.device = Device::CPU;
      else if (name == "cuda")
        opts.device = Device::CUDA;
      else
        return fail("--device must be cpu or cuda");
    } else if (arg == "--ppl-chunk") {
      if (!parseInt(value("--ppl-chunk"), opts.pplChunk))
        return fail("--ppl-chunk must be an integer");
    } else if (arg == "--temp") {
      if (!parseFloat(value("--temp"), opts.sampling.temperature))
        return fail("--temp must be a number");
    } else if (arg == "--top-k") {
      int64_t k;
      if (!parseInt(value("--top-k"), k) || k < 0 || k > INT32_MAX)
        return fail("--top-k must be a non-negative integer");
      opts.sampling.topK = static_cast<int>(k);
    } else if (arg == "--top-p") {
      if (!parseFloat(value("--top-p"), opts.sampling.topP))
        return fail("--top-p must be a number");
    } else if (arg == "--seed") {
      int64_t s;
      if (!parseInt(value("--seed"), s))
        return fail("--seed must be an integer");
      opts.sampling.seed = static_cast<uint64_t>(s);
    } else if (arg == "--json") {
      opts.json = true;
    } else if (arg == "--no-bos") {
      opts.noBos = true;
    } else if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return fail("unknown option '" + arg + "'");
    } else if (opts.artifact.empty()) {
      opts.artifact = arg;
    } else {
      return fail("unexpected argument '" + arg + "'");
    }
  }
  int modes =
      opts.havePrompt + !opts.tokens.empty() + !opts.perplexityFile.empty();
  if (opts.artifact.empty() || opts.weights.empty() || modes != 1)
    return usage();
  std::string error;
  if (!Sampler::validate(opts.sampling, error))
    return fail(error);

  // The thread team's size is asked for at load (kvant_thread_team_size);
  // artifacts built before that entry point read OMP_NUM_THREADS instead.
  if (opts.threads > 0)
    setenv("OMP_NUM_THREADS", std::to_string(opts.threads).c_str(), 1);
  // Loading maps the weights and, for interleaved layouts, runs the
  // artifact's repack: a one-time cost reported apart from the token rates.
  auto loadStart = std::chrono::steady_clock::now();
  std::unique_ptr<CompiledModel> model =
      CompiledModel::load(opts.artifact, opts.weights, error, opts.device,
                          static_cast<int>(opts.threads));
  if (!model)
    return fail(error);
  double loadS = seconds(loadStart, std::chrono::steady_clock::now());
  std::unique_ptr<Tokenizer> tokenizer =
      Tokenizer::fromGGUF(model->getWeights(), error);
  if (!tokenizer)
    return fail(error);
  if (!opts.perplexityFile.empty())
    return runPerplexity(*model, *tokenizer, opts);

  std::vector<int32_t> prompt;
  if (!opts.tokens.empty()) {
    if (!parseTokenList(opts.tokens, prompt))
      return fail("--tokens takes a comma-separated list of token ids");
  } else {
    prompt = tokenizer->encode(opts.prompt, !opts.noBos);
    if (prompt.empty())
      return fail("the prompt is empty");
  }

  Sampler sampler(opts.sampling);
  int64_t vocab = model->getVocabSize();
  std::vector<float> logits;
  auto t0 = std::chrono::steady_clock::now();
  if (!model->forward(prompt, logits, error))
    return fail(error);
  auto t1 = std::chrono::steady_clock::now();
  // --dump-logits records every row the model produced: the prompt's, then
  // one per decoded token.
  std::vector<float> dumped;
  if (!opts.dumpLogits.empty())
    dumped = logits;

  if (!opts.json && opts.havePrompt) {
    std::fputs(opts.prompt.c_str(), stdout);
    std::fflush(stdout);
  }
  std::vector<int32_t> generated;
  std::string text;
  std::vector<float> last(logits.end() - vocab, logits.end());
  auto print = [](const std::string &piece) {
    std::fputs(piece.c_str(), stdout);
    std::fflush(stdout);
  };
  auto dump = [&](const std::vector<float> &row) {
    dumped.insert(dumped.end(), row.begin(), row.end());
  };
  if (!sampleTokens(*model, tokenizer.get(), sampler, std::move(last),
                    opts.numPredict, generated, text, error,
                    opts.json ? std::function<void(const std::string &)>()
                              : print,
                    opts.dumpLogits.empty()
                        ? std::function<void(const std::vector<float> &)>()
                        : dump))
    return fail(error);
  // The decode time ends before the logits file is written.
  auto t2 = std::chrono::steady_clock::now();
  if (!opts.dumpLogits.empty() &&
      !writeAtomically(opts.dumpLogits, dumped.data(),
                       dumped.size() * sizeof(float), error))
    return fail(error);
  double prefillS = seconds(t0, t1), decodeS = seconds(t1, t2);
  int64_t decoded = generated.empty() ? 0 : (int64_t)generated.size() - 1;
  double prefillRate = prompt.size() / prefillS;
  double decodeRate = decoded > 0 ? decoded / decodeS : 0.0;
  if (opts.json) {
    std::printf("{\"prompt_tokens\": [");
    for (size_t i = 0; i < prompt.size(); ++i)
      std::printf("%s%d", i ? ", " : "", prompt[i]);
    std::printf("], \"tokens\": [");
    for (size_t i = 0; i < generated.size(); ++i)
      std::printf("%s%d", i ? ", " : "", generated[i]);
    std::printf("], \"text\": \"%s\", \"prefill_tokens_per_s\": %.2f, "
                "\"decode_tokens_per_s\": %.2f, \"load_s\": %.6f, "
                "\"prefill_s\": %.6f, \"decode_s\": %.6f, "
                "\"decoded_tokens\": %lld, \"threads\": %d}\n",
                jsonEscape(text).c_str(), prefillRate, decodeRate, loadS,
                prefillS, decodeS, (long long)decoded, model->getThreads());
  } else {
    std::printf("\n");
    std::fflush(stdout);
    std::fprintf(stderr,
                 "kvant-run: load %.1f ms, prefill %zu tokens in %.1f ms "
                 "(%.1f tokens/s), decode %lld tokens in %.1f ms (%.1f "
                 "tokens/s)\n",
                 loadS * 1e3, prompt.size(), prefillS * 1e3, prefillRate,
                 (long long)decoded, decodeS * 1e3, decodeRate);
  }
  return 0;
}
