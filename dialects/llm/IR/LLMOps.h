//===- LLMOps.h - llm operations ------------------------------*- C++ -*-===//

#ifndef KVANT_DIALECTS_LLM_IR_LLMOPS_H
#define KVANT_DIALECTS_LLM_IR_LLMOPS_H

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/qt/IR/QtDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/llm/IR/LLMOps.h.inc"

#endif // KVANT_DIALECTS_LLM_IR_LLMOPS_H
