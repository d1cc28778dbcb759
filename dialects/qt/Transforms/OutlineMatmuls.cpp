//===- OutlineMatmuls.cpp - one function per distinct qt.matmul -----------===//
//
// A model's layers repeat the same matmuls (TinyLlama-1.1B: 22 layers of 7
// block-format matmuls over 5 distinct weight shapes). Lowered in place, each
// gets its own copy of the generated GEMV and GEMM code, which is what the
// compile time of a model grows with. Outlined first, every matmul of one
// signature (activation type, weight type, result type) calls one function,
// lowered once.
//
//===----------------------------------------------------------------------===//

#include "dialects/qt/IR/QtOps.h"
#include "dialects/qt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"

namespace kvant::qt {
#define GEN_PASS_DEF_OUTLINEMATMULSPASS
#include "dialects/qt/Transforms/Passes.h.inc"
} // namespace kvant::qt

using namespace mlir;
using namespace kvant;
using namespace kvant::qt;

namespace {

/// A name for the function of a matmul against `type`, e.g.
/// qt_matmul_q4_0_i8_2048x2048 (`symbols.insert` makes it unique).
std::string calleeName(QuantizedTensorType type) {
  std::string name = "qt_matmul";
  if (auto gguf = dyn_cast<GGUFSchemeAttr>(type.getScheme())) {
    name += "_" + stringifyGGUFFormat(gguf.getFormat()).lower();
    if (gguf.isInterleaved())
      name += "_i" + std::to_string(gguf.getInterleave());
  }
  for (auto [i, d] : llvm::enumerate(type.getShape()))
    name += (i ? "x" : "_") + std::to_string(d);
  return name;
}

struct OutlineMatmulsPass
    : public kvant::qt::impl::OutlineMatmulsPassBase<OutlineMatmulsPass> {
  using OutlineMatmulsPassBase::OutlineMatmulsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // Static matrices of a block format, whose bytes a function argument
    // carries.
    SmallVector<MatmulOp> matmuls;
    module.walk([&](MatmulOp op) {
      auto type = dyn_cast<QuantizedTensorType>(op.getWeight().getType());
      if (type && type.getRank() == 2 && type.hasStaticShape() &&
          isa<GGUFSchemeAttr>(type.getScheme()))
        matmuls.push_back(op);
    });
    using Signature = std::tuple<Type, Type, Type>;
    llvm::DenseMap<Signature, func::FuncOp> callees;
    OpBuilder b(&getContext());
    for (MatmulOp op : matmuls) {
      auto weightType = cast<QuantizedTensorType>(op.getWeight().getType());
      RankedTensorType bytesType = weightType.getBytesType();
      Signature signature{op.getLhs().getType(), weightType, op.getType()};
      func::FuncOp &callee = callees[signature];
      auto resultType = cast<RankedTensorType>(op.getType());
      if (!callee) {
        // func.func private @qt_matmul_...(%x, %bytes, %init) -> result {
        //   %w = qt.from_bytes %bytes; %y = qt.matmul %x, %w
        //   %r = bufferization.materialize_in_destination %y in %init
        //   return %r }
        // The result is written into the caller's buffer (destination-
        // passing style): a buffer of the caller's own, which it frees after
        // its last use, rather than one the call returns.
        b.setInsertionPointToEnd(module.getBody());
        auto type = b.getFunctionType(
            {op.getLhs().getType(), bytesType, resultType}, {resultType});
        callee =
            func::FuncOp::create(b, op.getLoc(), calleeName(weightType), type);
        callee.setPrivate();
        // Internal to the artifact (a private func.func alone would still be
        // exported from the shared object).
        callee->setAttr(
            "llvm.linkage",
            LLVM::LinkageAttr::get(&getContext(), LLVM::Linkage::Internal));
        symbols.insert(callee);
        Block *body = callee.addEntryBlock();
        b.setInsertionPointToStart(body);
        Value weight = FromBytesOp::create(b, op.getLoc(), weightType,
                                           body->getArgument(1));
        Value y = MatmulOp::create(b, op.getLoc(), resultType,
                                   body->getArgument(0), weight);
        Value written = bufferization::MaterializeInDestinationOp::create(
                            b, op.getLoc(), resultType, y, body->getArgument(2))
                            .getResult();
        func::ReturnOp::create(b, op.getLoc(), written);
      }
      b.setInsertionPoint(op);
      Value bytes =
          ToBytesOp::create(b, op.getLoc(), bytesType, op.getWeight());
      // The result's shape: x's, with N last.
      SmallVector<Value> dynamicSizes;
      for (int64_t d = 0, e = resultType.getRank(); d < e; ++d)
        if (resultType.isDynamicDim(d))
          dynamicSizes.push_back(
              tensor::DimOp::create(b, op.getLoc(), op.getLhs(), d));
      Value init =
          tensor::EmptyOp::create(b, op.getLoc(), resultType.getShape(),
                                  resultType.getElementType(), dynamicSizes);
      auto call = func::CallOp::create(b, op.getLoc(), callee,
                                       ValueRange{op.getLhs(), bytes, init});
      op.getResult().replaceAllUsesWith(call.getResult(0));
      op.erase();
    }
  }
};

} // namespace
