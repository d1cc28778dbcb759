//===- KVDialect.h - kv dialect, types and attributes -------*- C++ -*-===//

#ifndef KVANT_DIALECTS_KV_IR_KVDIALECT_H
#define KVANT_DIALECTS_KV_IR_KVDIALECT_H

#include "dialects/qt/IR/QtDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/kv/IR/KVDialect.h.inc"
#include "dialects/kv/IR/KVEnums.h.inc"

#include "dialects/kv/IR/KVAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kv/IR/KVAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/kv/IR/KVTypes.h.inc"

#endif // KVANT_DIALECTS_KV_IR_KVDIALECT_H
