//===- SpecBase.td - spec dialect definition ------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_SPEC_IR_SPECBASE_TD
#define KVANT_DIALECTS_SPEC_IR_SPECBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Spec_Dialect : Dialect {
  let name = "spec";
  let cppNamespace = "::kvant::spec";
  let summary = "Speculative decoding graphs: draft, candidate tree, verify, accept";
  let description = [{
    TODO
  }];
}

class Spec_Op<string mnemonic, list<Trait> traits = []>
    : Op<Spec_Dialect, mnemonic, traits>;

#endif // KVANT_DIALECTS_SPEC_IR_SPECBASE_TD
