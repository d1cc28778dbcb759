//===- BufferizableOpInterfaceImpl.h - bufferizing qt ops ------*- C++ -*-===//

#ifndef KVANT_DIALECTS_QT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define KVANT_DIALECTS_QT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace kvant::qt {
/// Attaches one-shot bufferization's interface to the qt ops that reach it
/// (`qt.prefetch`).
void registerBufferizableOpInterfaceExternalModels(
    mlir::DialectRegistry &registry);
} // namespace kvant::qt

#endif // KVANT_DIALECTS_QT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
