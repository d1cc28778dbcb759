//===- CompiledModel.cpp - load and run a compiled model artifact ---------===//

#include "lib/Runtime/CompiledModel.h"

#include <dlfcn.h>

using namespace kvant;
using namespace kvant::runtime;

namespace {
/// MLIR's C interface for a ranked memref (`StridedMemRefType`).
template <typename T, int Rank> struct MemRefDescriptor {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

template <typename T, int Rank>
MemRefDescriptor<T, Rank> makeMemRef(T *data,
                                     const std::vector<int64_t> &shape) {
  MemRefDescriptor<T, Rank> m{data, data, 0, {}, {}};
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    m.sizes[i] = shape[i];
    m.strides[i] = stride;
    stride *= shape[i];
  }
  return m;
}

std::string dimsString(const std::vector<int64_t> &dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}
} // namespace

std::unique_ptr<CompiledModel>
CompiledModel::load(const std::string &artifactPath,
                    const std::string &weightsPath, std::string &error) {
  std::unique_ptr<CompiledModel> model(new CompiledModel());
  model->library = dlopen(artifactPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!model->library) {
    const char *why = dlerror();
    error = artifactPath + ": cannot load: " + (why ? why : "unknown error");
    return nullptr;
  }
  auto *text = static_cast<const char *>(
      dlsym(model->library, "kvant_descriptor"));
  if (!text) {
    error = artifactPath + ": not a kvant model (no kvant_descriptor)";
    return nullptr;
  }
  if (!artifact::Descriptor::parse(text, model->desc, error)) {
    error = artifactPath + ": " + error;
    return nullptr;
  }
  if (model->desc.target != "cpu") {
    error = artifactPath + ": compiled for target '" + model->desc.target +
            "', which this runtime does not run";
    return nullptr;
  }
  model->entry = reinterpret_cast<EntryFn>(
      dlsym(model->library, model->desc.entry.c_str()));
  if (!model->entry) {
    error = artifactPath + ": entry point '" + model->desc.entry +
            "' is missing";
    return nullptr;
  }

  model->weights = gguf::GGUFFile::open(weightsPath, error);
  if (!model->weights)
    return nullptr;
  const gguf::GGUFFile &file = *model->weights;
  std::optional<std::string> arch = file.getString("general.architecture");
  if (!model->desc.architecture.empty() &&
      arch.value_or("") != model->desc.architecture) {
    error = weightsPath + ": architecture '" + arch.value_or("?") +
            "' does not match the artifact's '" + model->desc.architecture +
            "'";
    return nullptr;
  }
  // Every weight the artifact reads must exist with its format and shape.
  for (const artifact::WeightDesc &w : model->desc.weights) {
    const gguf::TensorInfo *tensor = file.findTensor(w.name);
    if (!tensor) {
      error = weightsPath + ": missing tensor '" + w.name +
              "' that the artifact reads";
      return nullptr;
    }
    if (tensor->type->name != w.type || tensor->dims != w.dims) {
      error = weightsPath + ": tensor '" + w.name + "' is " +
              std::string(tensor->type->name) + " " +
              dimsString(tensor->dims) + " but the artifact was compiled for " +
              w.type + " " + dimsString(w.dims) + "; recompile for this file";
      return nullptr;
    }
    model->offsets.push_back(
        static_cast<int64_t>(file.getDataOffset() + tensor->offset));
  }
  if (model->desc.cacheElement != "F32") {
    error = artifactPath + ": KV cache element " + model->desc.cacheElement +
            " is not supported by this runtime yet";
    return nullptr;
  }
  int64_t cacheElements = 1;
  for (int64_t d : model->desc.cacheShape)
    cacheElements *= d;
  model->cache.assign(cacheElements, 0.0f);
  return model;
}

CompiledModel::~CompiledModel() {
  if (library)
    dlclose(library);
}

bool CompiledModel::forward(const std::vector<int32_t> &tokens,
                            std::vector<float> &logits, std::string &error) {
  int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) {
    error = "no tokens to run";
    return false;
  }
  if (position + n > getContextLength()) {
    error = std::to_string(position + n) + " tokens exceed the context of " +
            std::to_string(getContextLength()) +
            " (compile with a larger --context)";
    return false;
  }
  for (int32_t t : tokens)
    if (t < 0 || t >= desc.vocabSize) {
      error = "token id " + std::to_string(t) + " is outside the vocabulary of " +
              std::to_string(desc.vocabSize);
      return false;
    }
  logits.resize(n * desc.vocabSize);
  auto weightsRef = makeMemRef<uint8_t, 1>(
      const_cast<uint8_t *>(weights->getData()),
      {static_cast<int64_t>(weights->getFileSize())});
  auto offsetsRef = makeMemRef<int64_t, 1>(
      offsets.data(), {static_cast<int64_t>(offsets.size())});
  auto tokensRef =
      makeMemRef<int32_t, 1>(const_cast<int32_t *>(tokens.data()), {n});
  auto cacheRef = makeMemRef<float, 5>(cache.data(), desc.cacheShape);
  auto logitsRef = makeMemRef<float, 2>(logits.data(), {n, desc.vocabSize});
  entry(&weightsRef, &offsetsRef, &tokensRef, position, &cacheRef,
        &logitsRef);
  position += n;
  return true;
}

void CompiledModel::rollback(int64_t newPosition) {
  if (newPosition >= 0 && newPosition < position)
    position = newPosition;
}
