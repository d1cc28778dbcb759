//===- SpecDialect.h - spec dialect, types and attributes -------*- C++ -*-===//

#ifndef KVANT_DIALECTS_SPEC_IR_SPECDIALECT_H
#define KVANT_DIALECTS_SPEC_IR_SPECDIALECT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/spec/IR/SpecDialect.h.inc"
#include "dialects/spec/IR/SpecEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/spec/IR/SpecAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/spec/IR/SpecTypes.h.inc"

#endif // KVANT_DIALECTS_SPEC_IR_SPECDIALECT_H
