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

enum class GGUFFormat : uint32_t;

/// Formats that qt-interleave-weights gives interleaved rows: those that
/// qt-lower-matmul-to-vector reads faster so (blocks of one group of 32
/// with one scale).
bool shouldInterleaveRows(GGUFFormat format);

/// The row count of interleaved weights that qt-lower-matmul-to-vector
/// reads: one per f32 lane of an AVX2 register.
constexpr int64_t kInterleavedRows = 8;
} // namespace kvant::qt

#endif // KVANT_DIALECTS_QT_TRANSFORMS_PASSES_H
