//===- BufferizableOpInterfaceImpl.cpp - bufferizing qt ops --------------===//
//
// qt ops that stay on tensors until bufferization: `qt.prefetch`, a hint that
// the GEMV loops emit on the weight's bytes, becomes `memref.prefetch` on
// their buffer. Every other qt op is lowered before one-shot bufferization.
//
//===----------------------------------------------------------------------===//

#include "dialects/qt/Transforms/BufferizableOpInterfaceImpl.h"

#include "dialects/qt/IR/QtDialect.h"
#include "dialects/qt/IR/QtOps.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {
/// Reads its source (so that bufferization keeps the data it points at
/// valid), writes nothing, aliases nothing.
struct PrefetchOpInterface
    : BufferizableOpInterface::ExternalModel<PrefetchOpInterface,
                                             kvant::qt::PrefetchOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto prefetch = cast<kvant::qt::PrefetchOp>(op);
    FailureOr<Value> buffer =
        getBuffer(rewriter, prefetch.getSource(), options, state);
    if (failed(buffer))
      return failure();
    // A read into every cache level (locality 3), of data.
    rewriter.replaceOpWithNewOp<memref::PrefetchOp>(
        op, *buffer, prefetch.getIndices(), /*isWrite=*/false,
        /*localityHint=*/3, /*isDataCache=*/true);
    return success();
  }
};
} // namespace

void kvant::qt::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, QtDialect *) {
    PrefetchOp::attachInterface<PrefetchOpInterface>(*ctx);
    // The interface's bufferize() creates memref ops.
    ctx->loadDialect<memref::MemRefDialect>();
  });
}
