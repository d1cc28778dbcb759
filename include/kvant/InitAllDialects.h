//===- InitAllDialects.h - register kvant's dialects ------------*- C++ -*-===//

#ifndef KVANT_INITALLDIALECTS_H
#define KVANT_INITALLDIALECTS_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace kvant {
/// Adds the qt, kv, spec and llm dialects to `registry`.
void registerAllDialects(mlir::DialectRegistry &registry);
} // namespace kvant

#endif // KVANT_INITALLDIALECTS_H
