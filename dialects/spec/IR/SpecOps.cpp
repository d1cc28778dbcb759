//===- SpecOps.cpp - spec operations ---------------------------------------===//

#include "dialects/spec/IR/SpecOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kvant::spec;

#define GET_OP_CLASSES
#include "dialects/spec/IR/SpecOps.cpp.inc"
