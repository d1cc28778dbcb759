//===- Passes.h - conversions between dialects ------------------*- C++ -*-===//

#ifndef KVANT_PASSES_CONVERSION_PASSES_H
#define KVANT_PASSES_CONVERSION_PASSES_H

#include "dialects/qt/IR/QtDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace kvant {
#define GEN_PASS_DECL
#include "passes/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Conversion/Passes.h.inc"
} // namespace kvant

#endif // KVANT_PASSES_CONVERSION_PASSES_H
