//===- AttentionVisibility.cpp - which keys an attention mask shows -------===//

#include "passes/Conversion/Common/AttentionVisibility.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

static Value indexConst(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

static Value cmpIndex(OpBuilder &b, Location loc,
                      arith::CmpIPredicate predicate, Value lhs, Value rhs) {
  return arith::CmpIOp::create(b, loc, predicate, lhs, rhs);
}

Value kvant::llm::buildAttentionVisibility(OpBuilder &b, Location loc,
                                           AttentionMaskAttrInterface mask,
                                           Value t, Value query, Value key,
                                           Value treeMask, Value offset) {
  using P = arith::CmpIPredicate;
  auto distanceBelow = [&](int64_t limit) {
    Value distance = arith::SubIOp::create(b, loc, query, key);
    return cmpIndex(b, loc, P::slt, distance, indexConst(b, loc, limit));
  };
  auto both = [&](Value x, Value y) {
    return arith::AndIOp::create(b, loc, x, y).getResult();
  };
  auto either = [&](Value x, Value y) {
    return arith::OrIOp::create(b, loc, x, y).getResult();
  };

  Value causal = cmpIndex(b, loc, P::sle, key, query);
  if (isa<CausalMaskAttr>(mask))
    return causal;
  if (auto sliding = dyn_cast<SlidingWindowMaskAttr>(mask))
    return both(causal, distanceBelow(sliding.getWindow()));
  if (auto sink = dyn_cast<SinkWindowMaskAttr>(mask)) {
    Value isSink =
        cmpIndex(b, loc, P::slt, key, indexConst(b, loc, sink.getSink()));
    if (std::optional<int64_t> maxDistance = sink.getMaxDistance())
      isSink = both(isSink, distanceBelow(*maxDistance));
    return both(causal, either(distanceBelow(sink.getWindow()), isSink));
  }
  if (auto sparse = dyn_cast<BlockSparseMaskAttr>(mask)) {
    Value block = indexConst(b, loc, sparse.getBlock());
    Value keyBlock = arith::DivSIOp::create(b, loc, key, block);
    Value queryBlock = arith::DivSIOp::create(b, loc, query, block);
    Value blockDistance = arith::SubIOp::create(b, loc, queryBlock, keyBlock);
    Value local = cmpIndex(b, loc, P::slt, blockDistance,
                           indexConst(b, loc, sparse.getLocal()));
    Value global = cmpIndex(b, loc, P::slt, keyBlock,
                            indexConst(b, loc, sparse.getGlobal()));
    return both(causal, either(local, global));
  }
  assert(isa<TreeMaskAttr>(mask) && "unknown attention mask");
  // The committed prefix is visible; a tree node only through the mask. The
  // causal term keeps the mask index in [0, t].
  Value inPrefix = cmpIndex(b, loc, P::slt, key, offset);
  Value node = arith::SubIOp::create(b, loc, key, offset);
  node = arith::SelectOp::create(b, loc, inPrefix, indexConst(b, loc, 0), node);
  node = arith::SelectOp::create(b, loc, causal, node, indexConst(b, loc, 0));
  Value ancestor =
      tensor::ExtractOp::create(b, loc, treeMask, ValueRange{t, node});
  return both(causal, either(inPrefix, ancestor));
}
