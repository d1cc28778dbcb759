//===- SpecOps.h - spec operations ------------------------------*- C++ -*-===//

#ifndef KVANT_DIALECTS_SPEC_IR_SPECOPS_H
#define KVANT_DIALECTS_SPEC_IR_SPECOPS_H

#include "dialects/kv/IR/KVDialect.h"
#include "dialects/spec/IR/SpecDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/spec/IR/SpecOps.h.inc"

#endif // KVANT_DIALECTS_SPEC_IR_SPECOPS_H
