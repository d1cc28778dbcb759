//===- GGUFImporter.cpp - a GGUF model as an llm/qt/kv module -------------===//

#include "lib/Import/GGUFImporter.h"
#include "lib/Support/ShapeFormat.h"

#include "dialects/kv/IR/KVOps.h"
#include "dialects/llm/IR/LLMOps.h"
#include "dialects/qt/IR/QtFormats.h"
#include "dialects/qt/IR/QtOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace kvant;

namespace {
/// Emits the graph of one model; the first error stops it.
class LlamaBuilder {
public:
  LlamaBuilder(MLIRContext &ctx, const gguf::GGUFFile &file,
               const LlamaHParams &hp, const ImportOptions &options)
      : ctx(ctx), file(file), hp(hp), options(options),
        b(FileLineColLoc::get(&ctx, file.getName(), 0, 0), &ctx) {}

  OwningOpRef<ModuleOp> build(std::string &errorOut);

private:
  /// The IR type of a file tensor: IR shapes are GGML's dims reversed
  /// (outermost first).
  Type weightType(const gguf::TensorInfo &tensor);
  /// `qt.weight` for `name`, checked against `shape`; null on error.
  Value weight(const std::string &name, ArrayRef<int64_t> shape,
               bool optional = false);
  /// A norm or bias vector, converted to f32 tensors when stored narrower.
  Value vectorWeight(const std::string &name, int64_t size);
  Value layer(int64_t index, Value x, Value positions, Value pos, Value len,
              Value numTokens, Value &cache);
  Value linear(Value x, Value w, Value bias, int64_t outDim);
  Value splitHeads(Value x, Value numTokens, int64_t heads);
  bool fail(const std::string &message) {
    if (error.empty())
      error = file.getName() + ": " + message;
    return false;
  }

  MLIRContext &ctx;
  const gguf::GGUFFile &file;
  const LlamaHParams &hp;
  const ImportOptions &options;
  ImplicitLocOpBuilder b;
  std::string error;
  RankedTensorType actType; ///< [?, dim] f32.
  kv::CacheType cacheType;
};
} // namespace

bool kvant::readLlamaHParams(const gguf::GGUFFile &file, LlamaHParams &hp,
                             std::string &error) {
  auto fail = [&](const std::string &message) {
    error = file.getName() + ": " + message;
    return false;
  };
  std::optional<std::string> arch = file.getString("general.architecture");
  if (!arch)
    return fail("missing metadata 'general.architecture'");
  if (*arch != "llama" && *arch != "qwen2" && *arch != "mistral")
    return fail("unsupported architecture '" + *arch +
                "' (kvant imports llama, qwen2 and mistral)");
  hp.architecture = *arch;
  auto integer = [&](const std::string &key, int64_t &out,
                     std::optional<int64_t> fallback = std::nullopt) {
    std::optional<int64_t> value = file.getInteger(*arch + "." + key);
    if (!value && fallback)
      value = fallback;
    if (!value)
      return fail("missing integer metadata '" + *arch + "." + key + "'");
    if (*value <= 0)
      return fail("metadata '" + *arch + "." + key +
                  "' must be positive, got " + std::to_string(*value));
    out = *value;
    return true;
  };
  if (!integer("embedding_length", hp.dim) ||
      !integer("block_count", hp.numLayers) ||
      !integer("feed_forward_length", hp.ffnDim) ||
      !integer("attention.head_count", hp.numHeads) ||
      !integer("attention.head_count_kv", hp.numKVHeads, hp.numHeads) ||
      !integer("context_length", hp.contextLength))
    return false;
  if (hp.dim % hp.numHeads != 0)
    return fail("embedding length " + std::to_string(hp.dim) +
                " is not a multiple of the head count " +
                std::to_string(hp.numHeads));
  if (!integer("attention.key_length", hp.headDim, hp.dim / hp.numHeads))
    return false;
  std::optional<int64_t> valueLength =
      file.getInteger(*arch + ".attention.value_length");
  if (valueLength && *valueLength != hp.headDim)
    return fail("key length " + std::to_string(hp.headDim) +
                " differs from value length " + std::to_string(*valueLength) +
                ", which kvant does not support");
  if (hp.numHeads % hp.numKVHeads != 0)
    return fail("head count " + std::to_string(hp.numHeads) +
                " is not a multiple of the KV head count " +
                std::to_string(hp.numKVHeads));
  if (!integer("rope.dimension_count", hp.ropeDim, hp.headDim))
    return false;
  if (hp.ropeDim > hp.headDim || hp.ropeDim % 2 != 0)
    return fail("rope dimension count " + std::to_string(hp.ropeDim) +
                " must be even and at most the head size " +
                std::to_string(hp.headDim));
  if (std::optional<double> eps =
          file.getFloat(*arch + ".attention.layer_norm_rms_epsilon"))
    hp.rmsEpsilon = *eps;
  if (std::optional<double> theta = file.getFloat(*arch + ".rope.freq_base"))
    hp.ropeTheta = *theta;
  if (!(hp.rmsEpsilon > 0) || !(hp.ropeTheta > 0))
    return fail("rms epsilon and rope frequency base must be positive");
  hp.neoxRope = *arch == "qwen2";
  hp.qkvBias = *arch == "qwen2";
  const gguf::TensorInfo *embd = file.findTensor("token_embd.weight");
  if (!embd)
    return fail("missing tensor 'token_embd.weight'");
  if (embd->dims.size() != 2)
    return fail("tensor 'token_embd.weight' must be 2-D");
  hp.vocabSize = embd->dims[1];
  return true;
}

Type LlamaBuilder::weightType(const gguf::TensorInfo &tensor) {
  SmallVector<int64_t> shape(tensor.dims.rbegin(), tensor.dims.rend());
  switch (tensor.type->id) {
  case 0:
    return RankedTensorType::get(shape, b.getF32Type());
  case 1:
    return RankedTensorType::get(shape, b.getF16Type());
  case 30:
    return RankedTensorType::get(shape, b.getBF16Type());
  default:
    break;
  }
  if (std::optional<qt::GGUFFormat> format =
          qt::getGGUFFormatFromGGMLType(tensor.type->id))
    return qt::QuantizedTensorType::get(&ctx, shape,
                                        qt::GGUFSchemeAttr::get(&ctx, *format));
  return {};
}

Value LlamaBuilder::weight(const std::string &name, ArrayRef<int64_t> shape,
                           bool optional) {
  if (!error.empty())
    return {};
  const gguf::TensorInfo *tensor = file.findTensor(name);
  if (!tensor) {
    if (!optional)
      fail("missing tensor '" + name + "'");
    return {};
  }
  SmallVector<int64_t> actual(tensor->dims.rbegin(), tensor->dims.rend());
  if (ArrayRef<int64_t>(actual) != shape) {
    fail("tensor '" + name + "' has shape " + formatShape(actual) +
         " but the " + hp.architecture + " hyperparameters require " +
         formatShape(shape));
    return {};
  }
  Type type = weightType(*tensor);
  if (!type) {
    fail("tensor '" + name + "' has type " + std::string(tensor->type->name) +
         ", which kvant cannot import");
    return {};
  }
  return qt::WeightOp::create(b, type, b.getStringAttr(name),
                              b.getI64IntegerAttr(tensor->offset));
}

Value LlamaBuilder::vectorWeight(const std::string &name, int64_t size) {
  Value w = weight(name, {size});
  if (!w)
    return {};
  auto type = dyn_cast<RankedTensorType>(w.getType());
  if (!type) {
    fail("tensor '" + name + "' must be F32, F16 or BF16, not a block format");
    return {};
  }
  if (!type.getElementType().isF32())
    w = arith::ExtFOp::create(b, RankedTensorType::get({size}, b.getF32Type()),
                              w);
  return w;
}

Value LlamaBuilder::linear(Value x, Value w, Value bias, int64_t outDim) {
  auto type =
      RankedTensorType::get({ShapedType::kDynamic, outDim}, b.getF32Type());
  return llm::LinearOp::create(b, type, x, w, bias);
}

Value LlamaBuilder::splitHeads(Value x, Value numTokens, int64_t heads) {
  auto type = RankedTensorType::get({ShapedType::kDynamic, heads, hp.headDim},
                                    b.getF32Type());
  SmallVector<OpFoldResult> outputShape = {numTokens, b.getIndexAttr(heads),
                                           b.getIndexAttr(hp.headDim)};
  SmallVector<ReassociationIndices> reassociation = {{0}, {1, 2}};
  return tensor::ExpandShapeOp::create(b, type, x, reassociation, outputShape);
}

Value LlamaBuilder::layer(int64_t i, Value x, Value positions, Value pos,
                          Value len, Value numTokens, Value &cache) {
  std::string p = "blk." + std::to_string(i) + ".";
  b.setLoc(NameLoc::get(b.getStringAttr("blk." + std::to_string(i))));
  int64_t d = hp.dim, qDim = hp.numHeads * hp.headDim,
          kvDim = hp.numKVHeads * hp.headDim, f = hp.ffnDim;
  FloatAttr eps = b.getF32FloatAttr(hp.rmsEpsilon);

  Value attnNorm = vectorWeight(p + "attn_norm.weight", d);
  Value wq = weight(p + "attn_q.weight", {qDim, d});
  Value wk = weight(p + "attn_k.weight", {kvDim, d});
  Value wv = weight(p + "attn_v.weight", {kvDim, d});
  Value wo = weight(p + "attn_output.weight", {d, qDim});
  Value bq, bk, bv;
  if (hp.qkvBias) {
    bq = vectorWeight(p + "attn_q.bias", qDim);
    bk = vectorWeight(p + "attn_k.bias", kvDim);
    bv = vectorWeight(p + "attn_v.bias", kvDim);
  }
  Value ffnNorm = vectorWeight(p + "ffn_norm.weight", d);
  Value gate = weight(p + "ffn_gate.weight", {f, d});
  Value up = weight(p + "ffn_up.weight", {f, d});
  Value down = weight(p + "ffn_down.weight", {d, f});
  if (!error.empty())
    return {};

  Value h = llm::RMSNormOp::create(b, actType, x, attnNorm, eps);
  Value q = splitHeads(linear(h, wq, bq, qDim), numTokens, hp.numHeads);
  Value k = splitHeads(linear(h, wk, bk, kvDim), numTokens, hp.numKVHeads);
  Value v = splitHeads(linear(h, wv, bv, kvDim), numTokens, hp.numKVHeads);
  auto style = llm::RopeStyleAttr::get(
      &ctx, hp.neoxRope ? llm::RopeStyle::NeoX : llm::RopeStyle::Normal);
  FloatAttr theta = b.getF32FloatAttr(hp.ropeTheta);
  IntegerAttr ropeDim = hp.ropeDim == hp.headDim
                            ? IntegerAttr()
                            : b.getI64IntegerAttr(hp.ropeDim);
  q = llm::RopeOp::create(b, q.getType(), q, positions, Value(), style, theta,
                          ropeDim);
  k = llm::RopeOp::create(b, k.getType(), k, positions, Value(), style, theta,
                          ropeDim);
  // A float cache takes keys and values in its own element type.
  Type cacheElement = cacheType.getFloatElementType();
  auto kvType = RankedTensorType::get(
      {ShapedType::kDynamic, hp.numKVHeads, hp.headDim}, cacheElement);
  if (!cacheElement.isF32()) {
    k = arith::TruncFOp::create(b, kvType, k);
    v = arith::TruncFOp::create(b, kvType, v);
  }
  cache = kv::AppendOp::create(b, cacheType, k, v, cache,
                               b.getI64IntegerAttr(i), pos);
  auto read = kv::ReadOp::create(b, TypeRange{kvType, kvType}, cache,
                                 b.getI64IntegerAttr(i), len);
  Value att = llm::AttentionOp::create(
      b, q.getType(), q, read.getResult(0), read.getResult(1), Value(), pos,
      llm::CausalMaskAttr::get(&ctx), FloatAttr());
  auto flatType =
      RankedTensorType::get({ShapedType::kDynamic, qDim}, b.getF32Type());
  Value attFlat = tensor::CollapseShapeOp::create(
      b, flatType, att, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  Value x1 = arith::AddFOp::create(b, x, linear(attFlat, wo, Value(), d));

  Value h2 = llm::RMSNormOp::create(b, actType, x1, ffnNorm, eps);
  Value m = llm::MlpOp::create(b, actType, h2, gate, up, down,
                               llm::MlpActivation::SwiGLU);
  return arith::AddFOp::create(b, x1, m);
}

OwningOpRef<ModuleOp> LlamaBuilder::build(std::string &errorOut) {
  int64_t capacity =
      options.contextLength > 0 ? options.contextLength : hp.contextLength;
  if (options.pageSize <= 0 || capacity % options.pageSize != 0) {
    errorOut = file.getName() + ": context length " + std::to_string(capacity) +
               " is not a multiple of the KV page size " +
               std::to_string(options.pageSize);
    return {};
  }
  Type f32 = b.getF32Type();
  Type cacheElement;
  if (options.kvCacheType == "f32")
    cacheElement = f32;
  else if (options.kvCacheType == "f16")
    cacheElement = b.getF16Type();
  else {
    errorOut = file.getName() + ": unsupported KV cache type '" +
               options.kvCacheType + "' (expected f32 or f16)";
    return {};
  }
  actType = RankedTensorType::get({ShapedType::kDynamic, hp.dim}, f32);
  cacheType = kv::CacheType::get(&ctx, hp.numLayers, hp.numKVHeads, hp.headDim,
                                 options.pageSize, capacity, cacheElement);

  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getLoc());
  module->getOperation()->setAttr("kvant.architecture",
                                  b.getStringAttr(hp.architecture));
  SmallVector<NamedAttribute> hparams = {
      b.getNamedAttr("vocab", b.getI64IntegerAttr(hp.vocabSize)),
      b.getNamedAttr("dim", b.getI64IntegerAttr(hp.dim)),
      b.getNamedAttr("layers", b.getI64IntegerAttr(hp.numLayers)),
      b.getNamedAttr("heads", b.getI64IntegerAttr(hp.numHeads)),
      b.getNamedAttr("kv_heads", b.getI64IntegerAttr(hp.numKVHeads)),
      b.getNamedAttr("head_dim", b.getI64IntegerAttr(hp.headDim)),
      b.getNamedAttr("ffn", b.getI64IntegerAttr(hp.ffnDim)),
      b.getNamedAttr("context", b.getI64IntegerAttr(capacity))};
  module->getOperation()->setAttr("kvant.hparams",
                                  b.getDictionaryAttr(hparams));
  b.setInsertionPointToEnd(module->getBody());

  auto tokensType =
      RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  auto logitsType =
      RankedTensorType::get({ShapedType::kDynamic, hp.vocabSize}, f32);
  auto funcType = b.getFunctionType({tokensType, b.getIndexType(), cacheType},
                                    {logitsType, cacheType});
  auto func = func::FuncOp::create(b, "forward", funcType);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value tokens = entry->getArgument(0), pos = entry->getArgument(1);
  Value cache = entry->getArgument(2);

  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value numTokens = tensor::DimOp::create(b, tokens, zero);
  Value len = arith::AddIOp::create(b, pos, numTokens);
  Value positions = tensor::GenerateOp::create(
      b, tokensType, ValueRange{numTokens},
      [&](OpBuilder &nested, Location loc, ValueRange indices) {
        Value p = arith::AddIOp::create(nested, loc, pos, indices[0]);
        Value p32 =
            arith::IndexCastOp::create(nested, loc, nested.getI32Type(), p);
        tensor::YieldOp::create(nested, loc, p32);
      });

  Value embd = weight("token_embd.weight", {hp.vocabSize, hp.dim});
  if (!embd)
    return errorOut = error, nullptr;
  Type embdElement = f32;
  if (auto tableType = dyn_cast<RankedTensorType>(embd.getType()))
    embdElement = tableType.getElementType();
  Value x = llm::EmbeddingOp::create(
      b, RankedTensorType::get({ShapedType::kDynamic, hp.dim}, embdElement),
      embd, tokens);
  if (embdElement != f32)
    x = arith::ExtFOp::create(b, actType, x);

  for (int64_t i = 0; i < hp.numLayers && error.empty(); ++i)
    x = layer(i, x, positions, pos, len, numTokens, cache);
  b.setLoc(NameLoc::get(b.getStringAttr("output")));
  Value outNorm = vectorWeight("output_norm.weight", hp.dim);
  // Models with tied embeddings have no output matrix.
  Value out = weight("output.weight", {hp.vocabSize, hp.dim},
                     /*optional=*/true);
  if (!out && error.empty())
    out = embd;
  if (!error.empty())
    return errorOut = error, nullptr;
  Value h = llm::RMSNormOp::create(b, actType, x, outNorm,
                                   b.getF32FloatAttr(hp.rmsEpsilon));
  Value logits = llm::LogitsOp::create(b, logitsType, h, out, false);
  func::ReturnOp::create(b, ValueRange{logits, cache});

  if (failed(verify(*module))) {
    errorOut = file.getName() + ": the imported module does not verify "
                                "(see the diagnostics above)";
    return nullptr;
  }
  return module;
}

OwningOpRef<ModuleOp> kvant::importGGUF(MLIRContext &context,
                                        const gguf::GGUFFile &file,
                                        const ImportOptions &options,
                                        std::string &error) {
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      tensor::TensorDialect, qt::QtDialect, kv::KVDialect,
                      llm::LLMDialect>();
  LlamaHParams hp;
  if (!readLlamaHParams(file, hp, error))
    return nullptr;
  LlamaBuilder builder(context, file, hp, options);
  return builder.build(error);
}
