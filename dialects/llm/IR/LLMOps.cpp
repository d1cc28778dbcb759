//===- LLMOps.cpp - llm operations ---------------------------------------===//

#include "dialects/llm/IR/LLMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kvant::llm;

#define GET_OP_CLASSES
#include "dialects/llm/IR/LLMOps.cpp.inc"
