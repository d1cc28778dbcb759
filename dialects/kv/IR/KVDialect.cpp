//===- KVDialect.cpp - kv dialect, types and attributes ----------------===//

#include "dialects/kv/IR/KVDialect.h"
#include "dialects/kv/IR/KVOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kvant::kv;

#include "dialects/kv/IR/KVDialect.cpp.inc"
#include "dialects/kv/IR/KVEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kv/IR/KVAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/kv/IR/KVTypes.cpp.inc"

void KVDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/kv/IR/KVOps.cpp.inc"
      >();
}
