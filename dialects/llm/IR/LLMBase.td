//===- LLMBase.td - llm dialect definition ------------------*- tablegen -*-===//
//
// The llm dialect: the model-level ops of Llama-family decoder-only language
// models, as kvant-import emits them from GGUF files.
//
//===----------------------------------------------------------------------===//

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
    The `llm` dialect describes a Llama-family decoder (Llama, Qwen2,
    Mistral, ...) at the granularity a model card speaks of: token
    embedding, RMS normalization, rotary position embedding, attention with a
    named mask, gated or plain MLPs, linear projections, the vocabulary
    projection and sampling. `kvant-import` emits it from GGUF files, and the
    CPU and GPU lowerings consume it.

    Conventions shared by every op:

    * Values are builtin tensors with value semantics. Activations are
      `[T, D]` (`T` tokens, possibly dynamic, `D` the model width); attention
      operands are `[T, H, Dh]` (`H` heads of `Dh` elements).
    * Weights are `[out, in]`, row-major, as GGUF stores them: a linear layer
      computes `y = x · wᵀ`. A weight is either a float tensor or a
      `!qt.tensor` whose scheme says how it is quantized; ops that take a
      weight accept both and leave dequantization to the lowering.
    * Token ids and positions are `i32`, as in GGUF and llama.cpp.
    * Dynamic dimensions are accepted wherever a static one is; verifiers
      check every pair of sizes that are both static.
  }];
  let dependentDialects = ["::kvant::qt::QtDialect"];
  let useDefaultAttributePrinterParser = 1;
}

class LLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LLM_Dialect, mnemonic, traits>;

class LLM_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<LLM_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // KVANT_DIALECTS_LLM_IR_LLMBASE_TD
