//===- BindABI.cpp - the artifact's C ABI for a model's entry point -------===//

#include "passes/Transforms/Passes.h"

#include "dialects/qt/IR/QtFormats.h"
#include "dialects/qt/IR/QtOps.h"
#include "lib/Artifact/Descriptor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"

namespace kvant {
#define GEN_PASS_DEF_BINDABIPASS
#include "passes/Transforms/Passes.h.inc"
} // namespace kvant

using namespace mlir;
using namespace kvant;

namespace {

/// GGML's name and dims (innermost first) for a weight's IR type, or failure
/// for a type no GGUF tensor has.
FailureOr<artifact::WeightDesc> describeWeight(StringRef name, Type type) {
  artifact::WeightDesc desc;
  desc.name = name.str();
  ArrayRef<int64_t> shape;
  if (auto q = dyn_cast<qt::QuantizedTensorType>(type)) {
    auto scheme = dyn_cast<qt::GGUFSchemeAttr>(q.getScheme());
    if (!scheme)
      return failure();
    desc.type =
        llvm::StringRef(qt::stringifyGGUFFormat(scheme.getFormat())).upper();
    desc.interleave = scheme.getInterleave();
    shape = q.getShape();
  } else {
    auto tensor = cast<RankedTensorType>(type);
    Type element = tensor.getElementType();
    if (element.isF32())
      desc.type = "F32";
    else if (element.isF16())
      desc.type = "F16";
    else if (element.isBF16())
      desc.type = "BF16";
    else
      return failure();
    shape = tensor.getShape();
  }
  desc.dims.assign(shape.rbegin(), shape.rend());
  return desc;
}

/// The buffer type a weight's bytes are viewed as.
MemRefType getWeightBufferType(Type type) {
  if (auto q = dyn_cast<qt::QuantizedTensorType>(type)) {
    RankedTensorType bytes = q.getBytesType();
    return MemRefType::get(bytes.getShape(), bytes.getElementType());
  }
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// Emits `repack(%src, %dst, %offsets)`: for each weight whose type has
/// interleaved rows (slot i of `weights`), the blocks of the file's layout
/// at `src + offsets[i]` rearranged into the compute layout at
/// `dst + offsets[i]` (see #qt.gguf's `interleave`); other bytes are left to
/// the caller. Groups of rows are independent (an scf.parallel); each field
/// of a block moves as one vector of its bytes.
void buildRepackFunction(
    OpBuilder &b, Location loc, StringRef name,
    ArrayRef<std::pair<int64_t, qt::QuantizedTensorType>> interleaved) {
  Type i8 = b.getI8Type();
  auto bytesType = MemRefType::get({ShapedType::kDynamic}, i8);
  auto offsetsType = MemRefType::get({ShapedType::kDynamic}, b.getI64Type());
  auto func = func::FuncOp::create(
      b, loc, name, b.getFunctionType({bytesType, bytesType, offsetsType}, {}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *body = func.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(body);
  Value src = body->getArgument(0), dst = body->getArgument(1),
        offsets = body->getArgument(2);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [slot, type] : interleaved) {
    auto scheme = cast<qt::GGUFSchemeAttr>(type.getScheme());
    int64_t rows = scheme.getInterleave();
    int64_t n = type.getShape()[0];
    int64_t blocks = type.getShape()[1] / scheme.getBlockSize();
    int64_t blockBytes = scheme.getBlockBytes();
    Value index = arith::ConstantIndexOp::create(b, loc, slot);
    Value offset = memref::LoadOp::create(b, loc, offsets, index);
    Value shift = arith::IndexCastOp::create(b, loc, b.getIndexType(), offset);
    Value from = memref::ViewOp::create(
        b, loc, MemRefType::get({n, blocks, blockBytes}, i8), src, shift,
        ValueRange{});
    Value to = memref::ViewOp::create(
        b, loc, MemRefType::get({n / rows, blocks, rows * blockBytes}, i8), dst,
        shift, ValueRange{});
    // Each field of a block moves to its place in the interleaved group.
    SmallVector<int64_t> fields = qt::getGGUFBlockFields(scheme.getFormat());
    Value groups = arith::ConstantIndexOp::create(b, loc, n / rows);
    scf::ParallelOp::create(
        b, loc, ValueRange{zero}, ValueRange{groups}, ValueRange{one},
        [&](OpBuilder &pb, Location ploc, ValueRange ivs) {
          Value group = ivs[0];
          Value rowsValue = arith::ConstantIndexOp::create(pb, ploc, rows);
          Value firstRow = arith::MulIOp::create(pb, ploc, group, rowsValue);
          Value blocksValue = arith::ConstantIndexOp::create(pb, ploc, blocks);
          scf::ForOp::create(
              pb, ploc, zero, blocksValue, one, ValueRange{},
              [&](OpBuilder &fb, Location floc, Value block, ValueRange) {
                for (int64_t r = 0; r < rows; ++r) {
                  Value lane = arith::ConstantIndexOp::create(fb, floc, r);
                  Value row = arith::AddIOp::create(fb, floc, firstRow, lane);
                  int64_t start = 0;
                  for (int64_t size : fields) {
                    Value at = arith::ConstantIndexOp::create(fb, floc, start);
                    Value bytes = vector::LoadOp::create(
                        fb, floc, VectorType::get({size}, i8), from,
                        ValueRange{row, block, at});
                    int64_t place = *qt::getInterleavedByteOffset(
                        scheme.getFormat(), rows, r, start, size);
                    Value placeAt =
                        arith::ConstantIndexOp::create(fb, floc, place);
                    vector::StoreOp::create(fb, floc, bytes, to,
                                            ValueRange{group, block, placeAt});
                    start += size;
                  }
                }
                scf::YieldOp::create(fb, floc);
              });
        });
  }
  func::ReturnOp::create(b, loc);
}

struct BindABIPass : public kvant::impl::BindABIPassBase<BindABIPass> {
  using BindABIPassBase::BindABIPassBase;

  void runOnOperation() override;
  LogicalResult checkSignature(func::FuncOp func);
};

LogicalResult BindABIPass::checkSignature(func::FuncOp func) {
  FunctionType type = func.getFunctionType();
  auto fail = [&]() {
    return func.emitOpError()
           << "must have the model signature (tensor<?xi32>, index, "
              "tensor<Lx2xCxHxDxf32>) -> (tensor<?xVxf32>, "
              "tensor<Lx2xCxHxDxf32>) after kv-lower-to-tensor, got "
           << type;
  };
  if (type.getNumInputs() != 3 || type.getNumResults() != 2)
    return fail();
  auto tokens = dyn_cast<RankedTensorType>(type.getInput(0));
  auto cache = dyn_cast<RankedTensorType>(type.getInput(2));
  auto logits = dyn_cast<RankedTensorType>(type.getResult(0));
  if (!tokens || tokens.getRank() != 1 ||
      !tokens.getElementType().isInteger(32) || !type.getInput(1).isIndex() ||
      !cache || cache.getRank() != 5 || !cache.hasStaticShape() ||
      type.getResult(1) != cache || !logits || logits.getRank() != 2 ||
      !logits.getElementType().isF32() || logits.isDynamicDim(1))
    return fail();
  return success();
}

void BindABIPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func) {
    module.emitError() << "no entry function @" << entry;
    return signalPassFailure();
  }
  if (failed(checkSignature(func)))
    return signalPassFailure();

  // Weights in order of first use; one table slot per name.
  llvm::MapVector<StringRef, Type> weights;
  WalkResult walk = func.walk([&](qt::WeightOp op) {
    auto [it, inserted] = weights.insert({op.getName(), op.getType()});
    if (!inserted && it->second != op.getType()) {
      op.emitOpError() << "weight \"" << op.getName()
                       << "\" is used with two types: " << it->second << " and "
                       << op.getType();
      return WalkResult::interrupt();
    }
    if (failed(describeWeight(op.getName(), op.getType()))) {
      op.emitOpError() << "weight type " << op.getType()
                       << " has no GGUF tensor type";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();

  FunctionType oldType = func.getFunctionType();
  auto tokensType = cast<RankedTensorType>(oldType.getInput(0));
  auto cacheType = cast<RankedTensorType>(oldType.getInput(2));
  auto logitsType = cast<RankedTensorType>(oldType.getResult(0));
  Type i8 = IntegerType::get(ctx, 8), i64 = IntegerType::get(ctx, 64);
  auto weightsBuf = MemRefType::get({ShapedType::kDynamic}, i8);
  auto offsetsBuf = MemRefType::get({ShapedType::kDynamic}, i64);
  auto tokensBuf =
      MemRefType::get(tokensType.getShape(), tokensType.getElementType());
  auto cacheBuf =
      MemRefType::get(cacheType.getShape(), cacheType.getElementType());
  auto logitsBuf =
      MemRefType::get(logitsType.getShape(), logitsType.getElementType());

  Block &body = func.getBody().front();
  Location loc = func.getLoc();
  OpBuilder b(ctx);
  b.setInsertionPointToStart(&body);
  Value weightsArg = body.addArgument(weightsBuf, loc);
  Value offsetsArg = body.addArgument(offsetsBuf, loc);
  Value tokensArg = body.addArgument(tokensBuf, loc);
  Value posArg = body.addArgument(b.getIndexType(), loc);
  Value cacheArg = body.addArgument(cacheBuf, loc);
  Value logitsArg = body.addArgument(logitsBuf, loc);

  // The old tensor arguments read the runtime's buffers; `restrict` states
  // that nothing else aliases them, `writable` lets the cache update in place.
  Value tokens = bufferization::ToTensorOp::create(
      b, loc, tokensType, tokensArg, b.getUnitAttr(), UnitAttr());
  Value cache = bufferization::ToTensorOp::create(
      b, loc, cacheType, cacheArg, b.getUnitAttr(), b.getUnitAttr());
  body.getArgument(0).replaceAllUsesWith(tokens);
  body.getArgument(1).replaceAllUsesWith(posArg);
  body.getArgument(2).replaceAllUsesWith(cache);

  DenseMap<StringRef, int64_t> slot;
  for (auto [index, entry] : llvm::enumerate(weights))
    slot[entry.first] = index;
  SmallVector<qt::WeightOp> weightOps;
  func.walk([&](qt::WeightOp op) { weightOps.push_back(op); });
  for (qt::WeightOp op : weightOps) {
    b.setInsertionPoint(op);
    Location opLoc = op.getLoc();
    Value index = arith::ConstantIndexOp::create(b, opLoc, slot[op.getName()]);
    Value offset = memref::LoadOp::create(b, opLoc, offsetsArg, index);
    Value shift =
        arith::IndexCastOp::create(b, opLoc, b.getIndexType(), offset);
    MemRefType bufferType = getWeightBufferType(op.getType());
    Value view = memref::ViewOp::create(b, opLoc, bufferType, weightsArg, shift,
                                        ValueRange{});
    auto tensorType = RankedTensorType::get(bufferType.getShape(),
                                            bufferType.getElementType());
    Value tensor = bufferization::ToTensorOp::create(
        b, opLoc, tensorType, view, b.getUnitAttr(), UnitAttr());
    if (isa<qt::QuantizedTensorType>(op.getType()))
      tensor = qt::FromBytesOp::create(b, opLoc, op.getType(), tensor);
    op.replaceAllUsesWith(tensor);
    op.erase();
  }

  func.walk([&](func::ReturnOp ret) {
    b.setInsertionPoint(ret);
    bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), TypeRange{}, ret.getOperand(0), logitsArg,
        /*restrict=*/true, /*writable=*/true);
    bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), TypeRange{}, ret.getOperand(1), cacheArg,
        /*restrict=*/true, /*writable=*/true);
    func::ReturnOp::create(b, ret.getLoc());
    ret.erase();
  });
  body.eraseArguments(0, 3);
  func.setFunctionType(
      b.getFunctionType({weightsBuf, offsetsBuf, tokensBuf, b.getIndexType(),
                         cacheBuf, logitsBuf},
                        {}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());

  // The descriptor the runtime checks before running.
  artifact::Descriptor desc;
  desc.entry = "_mlir_ciface_" + entry;
  desc.target = target;
  if (auto arch = module->getAttrOfType<StringAttr>("kvant.architecture"))
    desc.architecture = arch.str();
  if (auto hparams = module->getAttrOfType<DictionaryAttr>("kvant.hparams"))
    for (NamedAttribute attr : hparams)
      if (auto value = dyn_cast<IntegerAttr>(attr.getValue()))
        desc.hparams[attr.getName().str()] = value.getInt();
  desc.vocabSize = logitsType.getDimSize(1);
  Type cacheElement = cacheType.getElementType();
  desc.cacheElement = cacheElement.isF32()   ? "F32"
                      : cacheElement.isF16() ? "F16"
                                             : "BF16";
  desc.cacheShape.assign(cacheType.getShape().begin(),
                         cacheType.getShape().end());
  SmallVector<std::pair<int64_t, qt::QuantizedTensorType>> interleaved;
  for (auto [slot, entry] : llvm::enumerate(weights)) {
    desc.weights.push_back(*describeWeight(entry.first, entry.second));
    if (desc.weights.back().interleave != 1)
      interleaved.push_back(
          {slot, cast<qt::QuantizedTensorType>(entry.second)});
  }
  if (!interleaved.empty()) {
    std::string repackName = entry + "_repack";
    if (module.lookupSymbol(repackName)) {
      module.emitError() << "the repack entry point @" << repackName
                         << " would shadow an existing symbol";
      return signalPassFailure();
    }
    b.setInsertionPointToEnd(module.getBody());
    buildRepackFunction(b, loc, repackName, interleaved);
    desc.repack = "_mlir_ciface_" + repackName;
  }
  std::string text = desc.serialize();
  text.push_back('\0');
  b.setInsertionPointToEnd(module.getBody());
  auto arrayType = LLVM::LLVMArrayType::get(i8, text.size());
  LLVM::GlobalOp::create(b, loc, arrayType, /*isConstant=*/true,
                         LLVM::Linkage::External, "kvant_descriptor",
                         b.getStringAttr(text));
}

} // namespace
