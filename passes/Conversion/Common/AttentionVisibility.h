//===- AttentionVisibility.h - which keys an attention mask shows -*- C++ -*-=//
//
// The visibility predicate of llm.attention's masks (LLMAttrs.td), shared by
// the reference lowering (convert-llm-to-linalg) and the vector one
// (llm-lower-attention-to-vector) so that both compute the same mask.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_PASSES_CONVERSION_COMMON_ATTENTIONVISIBILITY_H
#define KVANT_PASSES_CONVERSION_COMMON_ATTENTIONVISIBILITY_H

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/IR/Builders.h"

namespace kvant::llm {

/// An i1 that is true when the key at position `key` is visible to query row
/// `t`, at position `query`, per the formula of `mask`. `treeMask` (the
/// `[T, T]` i1 tensor) and `offset` (the first query's position) are only
/// read by `#llm.tree`. Every mask is causal: a key after the query is never
/// visible.
mlir::Value buildAttentionVisibility(mlir::OpBuilder &b, mlir::Location loc,
                                     AttentionMaskAttrInterface mask,
                                     mlir::Value t, mlir::Value query,
                                     mlir::Value key, mlir::Value treeMask,
                                     mlir::Value offset);

} // namespace kvant::llm

#endif // KVANT_PASSES_CONVERSION_COMMON_ATTENTIONVISIBILITY_H
