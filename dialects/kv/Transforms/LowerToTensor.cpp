//===- LowerToTensor.cpp - KV cache values to tensors ---------------------===//

#include "dialects/kv/IR/KVOps.h"
#include "dialects/kv/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace kvant::kv {
#define GEN_PASS_DEF_LOWERTOTENSORPASS
#include "dialects/kv/Transforms/Passes.h.inc"
} // namespace kvant::kv

using namespace mlir;
using namespace kvant::kv;

namespace {

/// The tensor a float cache becomes: [layers, 2, capacity, heads, head_dim].
RankedTensorType getCacheTensorType(CacheType cache) {
  return RankedTensorType::get({cache.getLayers(), 2, cache.getCapacity(),
                                cache.getHeads(), cache.getHeadDim()},
                               cache.getFloatElementType());
}

/// Offsets, sizes and strides of the [tokens, heads, head_dim] slab of
/// `layer`'s keys (kind 0) or values (kind 1) starting at `start`.
struct Slab {
  SmallVector<OpFoldResult> offsets, sizes, strides;
};
Slab getSlab(OpBuilder &b, CacheType cache, int64_t layer, int64_t kind,
             OpFoldResult start, OpFoldResult tokens) {
  Slab slab;
  slab.offsets = {b.getIndexAttr(layer), b.getIndexAttr(kind), start,
                  b.getIndexAttr(0), b.getIndexAttr(0)};
  slab.sizes = {b.getIndexAttr(1), b.getIndexAttr(1), tokens,
                b.getIndexAttr(cache.getHeads()),
                b.getIndexAttr(cache.getHeadDim())};
  slab.strides.assign(5, b.getIndexAttr(1));
  return slab;
}

OpFoldResult getTokenCount(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(0))
    return b.getIndexAttr(type.getDimSize(0));
  return tensor::DimOp::create(b, loc, tensor, 0).getResult();
}

struct LowerEmpty : OpConversionPattern<EmptyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmptyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = getCacheTensorType(op.getType());
    rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, type.getShape(),
                                                 type.getElementType());
    return success();
  }
};

struct LowerAppend : OpConversionPattern<AppendOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AppendOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CacheType cache = op.getType();
    OpFoldResult tokens = getTokenCount(rewriter, loc, adaptor.getKeys());
    Value result = adaptor.getCache();
    int64_t kind = 0;
    for (Value slab : {adaptor.getKeys(), adaptor.getValues()}) {
      Slab s = getSlab(rewriter, cache, op.getLayer(), kind++,
                       adaptor.getPosition(), tokens);
      result = tensor::InsertSliceOp::create(rewriter, loc, slab, result,
                                             s.offsets, s.sizes, s.strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerRead : OpConversionPattern<ReadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CacheType cache = cast<CacheType>(op.getCache().getType());
    auto resultType = cast<RankedTensorType>(op.getKeys().getType());
    SmallVector<Value> results;
    for (int64_t kind : {0, 1}) {
      Slab s = getSlab(rewriter, cache, op.getLayer(), kind,
                       rewriter.getIndexAttr(0), adaptor.getLength());
      Value slice = tensor::ExtractSliceOp::create(
          rewriter, loc, resultType, adaptor.getCache(), s.offsets, s.sizes,
          s.strides);
      results.push_back(slice);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct LowerRollback : OpConversionPattern<RollbackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RollbackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Positions past the new length are simply overwritten later.
    rewriter.replaceOp(op, adaptor.getCache());
    return success();
  }
};

struct LowerToTensorPass
    : public kvant::kv::impl::LowerToTensorPassBase<LowerToTensorPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Refuse what is not lowered yet, with a located error, before touching
    // anything.
    bool unsupported = false;
    module.walk([&](Operation *op) {
      if (isa<EvictOp, QuantizeOp>(op)) {
        op->emitOpError("is not lowered yet by kv-lower-to-tensor");
        unsupported = true;
      }
      for (Type type : op->getResultTypes())
        if (auto cache = dyn_cast<CacheType>(type);
            cache && cache.isQuantized()) {
          op->emitOpError("quantized KV caches are not lowered yet");
          unsupported = true;
        }
    });
    if (unsupported)
      return signalPassFailure();

    TypeConverter converter;
    converter.addConversion([](Type type) { return type; });
    converter.addConversion(
        [](CacheType cache) -> Type { return getCacheTensorType(cache); });

    ConversionTarget target(getContext());
    target.addIllegalDialect<KVDialect>();
    target.markUnknownOpDynamicallyLegal(
        [&](Operation *op) { return converter.isLegal(op); });
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp func) {
      return converter.isSignatureLegal(func.getFunctionType()) &&
             converter.isLegal(&func.getBody());
    });

    RewritePatternSet patterns(&getContext());
    patterns.add<LowerEmpty, LowerAppend, LowerRead, LowerRollback>(
        converter, &getContext());
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
