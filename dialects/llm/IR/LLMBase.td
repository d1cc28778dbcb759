//===- LLMBase.td - llm dialect definition ------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_LLM_IR_LLMBASE_TD
#define KVANT_DIALECTS_LLM_IR_LLMBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def LLM_Dialect : Dialect {
  let name = "llm";
  let cppNamespace = "::kvant::llm";
  let summary = "Model-level ops of decoder-only language models";
  let description = [{
    TODO
  }];
}

class LLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LLM_Dialect, mnemonic, traits>;

#endif // KVANT_DIALECTS_LLM_IR_LLMBASE_TD
