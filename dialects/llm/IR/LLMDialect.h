//===- LLMDialect.h - llm dialect, types and attributes -------*- C++ -*-===//

#ifndef KVANT_DIALECTS_LLM_IR_LLMDIALECT_H
#define KVANT_DIALECTS_LLM_IR_LLMDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/llm/IR/LLMDialect.h.inc"
#include "dialects/llm/IR/LLMEnums.h.inc"

#include "dialects/llm/IR/LLMAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llm/IR/LLMAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/llm/IR/LLMTypes.h.inc"

#endif // KVANT_DIALECTS_LLM_IR_LLMDIALECT_H
