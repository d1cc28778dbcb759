//===- SpecDialect.cpp - spec dialect, types and attributes ---------------===//

#include "dialects/spec/IR/SpecDialect.h"
#include "dialects/spec/IR/SpecOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/spec/IR/SpecAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/spec/IR/SpecTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/spec/IR/SpecOps.cpp.inc"
      >();
}

/// The folders of spec.tree_mask and spec.tree_depths produce dense tensor
/// constants.
Operation *SpecDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

//===----------------------------------------------------------------------===//
// TreeType
//===----------------------------------------------------------------------===//

LogicalResult TreeType::verify(function_ref<InFlightDiagnostic()> emitError,
                               int64_t nodes, int64_t depth) {
  if (nodes < 1)
    return emitError() << "a tree has at least its root node, got " << nodes
                       << " nodes";
  if (depth < 0 || depth >= nodes)
    return emitError() << "depth " << depth << " is impossible for " << nodes
                       << " nodes; expected 0 to " << nodes - 1;
  return success();
}
