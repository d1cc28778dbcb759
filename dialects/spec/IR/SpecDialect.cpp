//===- SpecDialect.cpp - spec dialect, types and attributes ----------------===//

#include "dialects/spec/IR/SpecDialect.h"
#include "dialects/spec/IR/SpecOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kvant::spec;

#include "dialects/spec/IR/SpecDialect.cpp.inc"
#include "dialects/spec/IR/SpecEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/spec/IR/SpecAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/spec/IR/SpecTypes.cpp.inc"

void SpecDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/spec/IR/SpecOps.cpp.inc"
      >();
}
