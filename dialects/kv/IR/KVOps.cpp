//===- KVOps.cpp - kv operations ---------------------------------------===//

#include "dialects/kv/IR/KVOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kvant::kv;

#define GET_OP_CLASSES
#include "dialects/kv/IR/KVOps.cpp.inc"
