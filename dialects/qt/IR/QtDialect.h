//===- QtDialect.h - qt dialect, types and attributes -----------*- C++ -*-===//

#ifndef KVANT_DIALECTS_QT_IR_QTDIALECT_H
#define KVANT_DIALECTS_QT_IR_QTDIALECT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/qt/IR/QtDialect.h.inc"
#include "dialects/qt/IR/QtEnums.h.inc"

#include "dialects/qt/IR/QtAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/qt/IR/QtAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/qt/IR/QtTypes.h.inc"

#endif // KVANT_DIALECTS_QT_IR_QTDIALECT_H
