//===- LLMOps.td - llm operations ---------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_LLM_IR_LLMOPS_TD
#define KVANT_DIALECTS_LLM_IR_LLMOPS_TD

include "dialects/llm/IR/LLMBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

#endif // KVANT_DIALECTS_LLM_IR_LLMOPS_TD
