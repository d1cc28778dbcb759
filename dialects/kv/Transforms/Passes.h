//===- Passes.h - kv transformation passes ----------------------*- C++ -*-===//

#ifndef KVANT_DIALECTS_KV_TRANSFORMS_PASSES_H
#define KVANT_DIALECTS_KV_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace kvant::kv {
#define GEN_PASS_DECL
#include "dialects/kv/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/kv/Transforms/Passes.h.inc"
} // namespace kvant::kv

#endif // KVANT_DIALECTS_KV_TRANSFORMS_PASSES_H
