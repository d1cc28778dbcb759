//===- KvantModule.cpp - the kvant._kvant extension module ----------------===//
//
// nanobind bindings over kvant's compile entry points (lib/Compiler) and its
// plain C++ runtime (lib/Runtime). kvant's C++ reports errors as strings and
// never throws; this file alone is built with exceptions and turns those
// strings into kvant.KvantError. The GIL is released while models compile
// and run.
//
//===----------------------------------------------------------------------===//

#include "kvant/Pipelines.h"
#include "lib/Compiler/Compile.h"
#include "lib/Runtime/CompiledModel.h"
#include "lib/Runtime/Generation.h"
#include "lib/Runtime/Sampler.h"
#include "lib/Runtime/Tokenizer.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace nb = nanobind;
using namespace kvant;
using namespace kvant::runtime;

namespace {

/// Raised to Python as kvant.KvantError with kvant's message.
struct KvantException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void raise(const std::string &message) {
  throw KvantException(message);
}

using Logits = nb::ndarray<nb::numpy, float, nb::ndim<2>>;

/// A [rows, vocab] float32 NumPy array that owns `values`.
Logits toArray(std::vector<float> &&values, size_t rows, size_t vocab) {
  auto *owned = new std::vector<float>(std::move(values));
  nb::capsule owner(owned, [](void *p) noexcept {
    delete static_cast<std::vector<float> *>(p);
  });
  return Logits(owned->data(), {rows, vocab}, owner);
}

/// A compiled model, its weights and the tokenizer they carry.
class Model {
public:
  Model(const std::string &artifactPath, const std::string &weightsPath,
        int threads) {
    std::string error;
    {
      nb::gil_scoped_release release;
      model = CompiledModel::load(artifactPath, weightsPath, error,
                                  kvant::runtime::Device::CPU, threads);
      if (model)
        tokenizer = Tokenizer::fromGGUF(model->getWeights(), tokenizerError);
    }
    if (!model)
      raise(error);
  }

  int threads() const { return model->getThreads(); }

  Logits forward(const std::vector<int32_t> &tokens) {
    std::vector<float> logits;
    std::string error;
    bool ok;
    {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      ok = model->forward(tokens, logits, error);
    }
    if (!ok)
      raise(error);
    return toArray(std::move(logits), tokens.size(), model->getVocabSize());
  }

  void rollback(int64_t position) {
    std::lock_guard<std::mutex> lock(mutex);
    if (position < 0 || position > model->getPosition())
      raise("cannot roll back to position " + std::to_string(position) +
            ": the cache holds " + std::to_string(model->getPosition()) +
            " tokens");
    model->rollback(position);
  }

  int64_t position() const { return model->getPosition(); }
  int64_t contextLength() const { return model->getContextLength(); }
  int64_t vocabSize() const { return model->getVocabSize(); }

  nb::dict descriptor() const {
    const artifact::Descriptor &d = model->getDescriptor();
    nb::dict out, hparams;
    for (const auto &[key, value] : d.hparams)
      hparams[nb::str(key.c_str())] = value;
    nb::list weights;
    for (const artifact::WeightDesc &w : d.weights) {
      nb::dict entry;
      entry["name"] = w.name;
      entry["type"] = w.type;
      entry["dims"] = w.dims;
      weights.append(entry);
    }
    out["abi_version"] = d.abiVersion;
    out["entry"] = d.entry;
    out["target"] = d.target;
    out["architecture"] = d.architecture;
    out["hparams"] = hparams;
    out["cache_element"] = d.cacheElement;
    out["cache_shape"] = d.cacheShape;
    out["vocab_size"] = d.vocabSize;
    out["weights"] = weights;
    return out;
  }

  const Tokenizer &getTokenizer() const {
    if (!tokenizer)
      raise(tokenizerError);
    return *tokenizer;
  }

  /// Decodes from an empty cache as kvant-run does: the prompt, then up to
  /// `n` sampled tokens, stopping after an end-of-generation token (which is
  /// in the ids but not in the text).
  std::pair<std::vector<int32_t>, std::string>
  generate(const std::vector<int32_t> &prompt, int64_t n,
           const SamplingParams &params) {
    std::string error;
    if (!Sampler::validate(params, error))
      raise(error);
    if (n < 0)
      raise("n must be a non-negative integer");
    std::vector<int32_t> generated;
    std::string text;
    bool ok = true;
    {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      ok = generateLocked(prompt, n, params, generated, text, error);
    }
    if (!ok)
      raise(error);
    return {std::move(generated), std::move(text)};
  }

  /// Perplexity as `kvant-run --perplexity`: non-overlapping windows of
  /// `chunk` tokens (0: the context length), each starting with BOS and an
  /// empty cache.
  nb::dict perplexity(const std::string &text, int64_t chunk) {
    const Tokenizer &tok = getTokenizer();
    if (chunk == 0)
      chunk = model->getContextLength();
    if (chunk > model->getContextLength() || chunk < 2)
      raise("chunk must be between 2 and the context length " +
            std::to_string(model->getContextLength()));
    double nll = 0;
    int64_t scored = 0;
    std::string error;
    bool ok = true;
    {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      TextScore score;
      ok = scoreText(*model, tok, text, chunk, score, error);
      nll = score.totalNll;
      scored = score.scoredTokens;
    }
    if (!ok)
      raise(error);
    if (scored == 0)
      raise("the text is too short to score");
    nb::dict out;
    out["tokens"] = scored;
    out["bytes"] = text.size();
    out["nll_per_token"] = nll / scored;
    out["perplexity"] = std::exp(nll / scored);
    out["bits_per_byte"] =
        nll / std::log(2.0) / static_cast<double>(text.size());
    return out;
  }

private:
  bool generateLocked(const std::vector<int32_t> &prompt, int64_t n,
                      const SamplingParams &params,
                      std::vector<int32_t> &generated, std::string &text,
                      std::string &error) {
    if (prompt.empty()) {
      error = "the prompt is empty";
      return false;
    }
    model->rollback(0);
    std::vector<float> logits;
    if (!model->forward(prompt, logits, error))
      return false;
    Sampler sampler(params);
    int64_t vocab = model->getVocabSize();
    std::vector<float> last(logits.end() - vocab, logits.end());
    return sampleTokens(*model, tokenizer.get(), sampler, std::move(last), n,
                        generated, text, error);
  }

  std::unique_ptr<CompiledModel> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::string tokenizerError;
  std::mutex mutex;
};

std::string importGGUF(const std::string &path, int64_t context) {
  std::string text, error;
  bool ok;
  {
    nb::gil_scoped_release release;
    ok = importGGUFToText(path, context, text, error);
  }
  if (!ok)
    raise(error);
  return text;
}

std::string runPipeline(const std::string &moduleText,
                        const std::string &pipeline) {
  std::string result, error;
  bool ok;
  {
    nb::gil_scoped_release release;
    ok = runPipelineOnText(moduleText, pipeline, result, error);
  }
  if (!ok)
    raise(error);
  return result;
}

void compile(const std::string &input, bool inputIsText,
             const std::string &output, const std::string &target,
             int64_t context, const std::string &march, const std::string &emit,
             const std::string &clang, bool parallel,
             const std::string &int8Dot, int64_t interleaveRows,
             const std::string &kvCacheType, int64_t weightPrefetchDistance,
             const std::string &parallelSchedule) {
  CompileOptions options;
  if (inputIsText)
    options.inputText = input;
  else
    options.inputPath = input;
  options.inputIsText = inputIsText;
  options.outputPath = output;
  options.target = target;
  options.contextLength = context;
  options.march = march;
  options.clangPath = clang;
  options.parallel = parallel;
  options.int8Dot = int8Dot;
  options.interleaveRows = interleaveRows;
  options.kvCacheType = kvCacheType;
  options.prefetchDistance = weightPrefetchDistance;
  options.parallelSchedule = parallelSchedule;
  if (emit == "so")
    options.emit = EmitKind::SharedObject;
  else if (emit == "llvm-ir")
    options.emit = EmitKind::LLVMIR;
  else if (emit == "llvm-dialect")
    options.emit = EmitKind::LLVMDialect;
  else if (emit == "model")
    options.emit = EmitKind::Model;
  else
    raise("emit must be one of 'so', 'llvm-ir', 'llvm-dialect', 'model', "
          "not '" +
          emit + "'");
  std::string error;
  bool ok;
  {
    nb::gil_scoped_release release;
    ok = compileModel(options, error);
  }
  if (!ok)
    raise(error);
}

} // namespace

NB_MODULE(_kvant, m) {
  m.doc() = "kvant's compiler and runtime (see the kvant package)";
  nb::exception<KvantException>(m, "KvantError", PyExc_RuntimeError);

  m.def("import_gguf", &importGGUF, nb::arg("path"), nb::arg("context") = 0);
  m.def("run_pipeline", &runPipeline, nb::arg("module_text"),
        nb::arg("pipeline"));
  m.def(
      "cpu_pipeline",
      [](const std::string &entry) {
        return "builtin.module(" + getCPUPipeline(entry) + ")";
      },
      nb::arg("entry") = "forward");
  m.def("compile", &compile, nb::arg("input"), nb::arg("input_is_text"),
        nb::arg("output"), nb::arg("target"), nb::arg("context"),
        nb::arg("march"), nb::arg("emit"), nb::arg("clang"),
        nb::arg("parallel"), nb::arg("int8_dot"), nb::arg("interleave_rows"),
        nb::arg("kv_cache_type"), nb::arg("weight_prefetch_distance"),
        nb::arg("parallel_schedule"));
  m.def("default_clang", [] { return std::string(getDefaultClangPath()); });

  nb::class_<Tokenizer>(m, "Tokenizer")
      .def(
          "encode",
          [](const Tokenizer &t, const std::string &text, bool addBos,
             bool parseSpecial) {
            return t.encode(text, addBos, parseSpecial);
          },
          nb::arg("text"), nb::arg("add_bos") = true,
          nb::arg("parse_special") = false)
      .def(
          "decode",
          [](const Tokenizer &t, const std::vector<int32_t> &ids) {
            std::string text = t.decode(ids);
            return nb::bytes(text.data(), text.size());
          },
          nb::arg("ids"))
      .def(
          "token_to_piece",
          [](const Tokenizer &t, int32_t id, bool special) {
            std::string piece = t.tokenToPiece(id, special);
            return nb::bytes(piece.data(), piece.size());
          },
          nb::arg("id"), nb::arg("special") = false)
      .def("is_eog", &Tokenizer::isEog, nb::arg("id"))
      .def_prop_ro("bos", &Tokenizer::bos)
      .def_prop_ro("eos", &Tokenizer::eos)
      .def_prop_ro("vocab_size", &Tokenizer::vocabSize);

  nb::class_<Model>(m, "Model")
      .def(nb::init<const std::string &, const std::string &, int>(),
           nb::arg("artifact_path"), nb::arg("weights_path"),
           nb::arg("threads") = 0)
      .def_prop_ro("threads", &Model::threads)
      .def("forward", &Model::forward, nb::arg("tokens"))
      .def("rollback", &Model::rollback, nb::arg("position"))
      .def_prop_ro("position", &Model::position)
      .def_prop_ro("context_length", &Model::contextLength)
      .def_prop_ro("vocab_size", &Model::vocabSize)
      .def_prop_ro("descriptor", &Model::descriptor)
      .def_prop_ro("tokenizer", &Model::getTokenizer,
                   nb::rv_policy::reference_internal)
      .def(
          "generate",
          [](Model &self, const std::vector<int32_t> &prompt, int64_t n,
             float temperature, int topK, float topP, uint64_t seed) {
            SamplingParams params;
            params.temperature = temperature;
            params.topK = topK;
            params.topP = topP;
            params.seed = seed;
            auto [ids, text] = self.generate(prompt, n, params);
            return std::make_pair(std::move(ids),
                                  nb::bytes(text.data(), text.size()));
          },
          nb::arg("prompt"), nb::arg("n"), nb::arg("temperature"),
          nb::arg("top_k"), nb::arg("top_p"), nb::arg("seed"))
      .def("perplexity", &Model::perplexity, nb::arg("text"),
           nb::arg("chunk") = 0);
}
