//===- KVOps.h - kv operations ------------------------------*- C++ -*-===//

#ifndef KVANT_DIALECTS_KV_IR_KVOPS_H
#define KVANT_DIALECTS_KV_IR_KVOPS_H

#include "dialects/kv/IR/KVDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/kv/IR/KVOps.h.inc"

#endif // KVANT_DIALECTS_KV_IR_KVOPS_H
