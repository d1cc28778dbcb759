//===- Passes.h - qt transformation passes ----------------------*- C++ -*-===//

#ifndef KVANT_DIALECTS_QT_TRANSFORMS_PASSES_H
#define KVANT_DIALECTS_QT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Pass/Pass.h"

namespace kvant::qt {
#define GEN_PASS_DECL
#include "dialects/qt/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/qt/Transforms/Passes.h.inc"
} // namespace kvant::qt

#endif // KVANT_DIALECTS_QT_TRANSFORMS_PASSES_H
