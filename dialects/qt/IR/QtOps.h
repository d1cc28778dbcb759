//===- QtOps.h - qt operations ----------------------------------*- C++ -*-===//

#ifndef KVANT_DIALECTS_QT_IR_QTOPS_H
#define KVANT_DIALECTS_QT_IR_QTOPS_H

#include "dialects/qt/IR/QtDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/qt/IR/QtOps.h.inc"

#endif // KVANT_DIALECTS_QT_IR_QTOPS_H
