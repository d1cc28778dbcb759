//===- KVBase.td - kv dialect definition ------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_KV_IR_KVBASE_TD
#define KVANT_DIALECTS_KV_IR_KVBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def KV_Dialect : Dialect {
  let name = "kv";
  let cppNamespace = "::kvant::kv";
  let summary = "KV cache as a typed value: pages, quantization, eviction, rollback";
  let description = [{
    TODO
  }];
}

class KV_Op<string mnemonic, list<Trait> traits = []>
    : Op<KV_Dialect, mnemonic, traits>;

#endif // KVANT_DIALECTS_KV_IR_KVBASE_TD
