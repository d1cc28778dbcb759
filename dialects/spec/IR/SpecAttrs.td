//===- SpecAttrs.td - spec enum attributes -----------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_SPEC_IR_SPECATTRS_TD
#define KVANT_DIALECTS_SPEC_IR_SPECATTRS_TD

include "dialects/spec/IR/SpecBase.td"

def Spec_DraftMethod : I32EnumAttr<"DraftMethod", "how draft tokens are proposed", [
    I32EnumAttrCase<"Model", 0, "model">,
    I32EnumAttrCase<"NGram", 1, "ngram">,
    I32EnumAttrCase<"Suffix", 2, "suffix">,
  ]> {
  let cppNamespace = "::kvant::spec";
  let genSpecializedAttr = 0;
}

def Spec_DraftMethodAttr : EnumAttr<Spec_Dialect, Spec_DraftMethod, "draft_method"> {
  let summary = "How `spec.draft` proposes tokens";
  let description = [{
    `model` runs a draft model function; `ngram` (prompt lookup decoding)
    and `suffix` search the token history for an earlier occurrence of its
    tail and propose what followed it.
  }];
}

def Spec_VerifyRule : I32EnumAttr<"VerifyRule", "how candidate tokens are accepted", [
    I32EnumAttrCase<"Greedy", 0, "greedy">,
    I32EnumAttrCase<"Rejection", 1, "rejection">,
  ]> {
  let cppNamespace = "::kvant::spec";
  let genSpecializedAttr = 0;
}

def Spec_VerifyRuleAttr : EnumAttr<Spec_Dialect, Spec_VerifyRule, "verify_rule"> {
  let summary = "How `spec.verify` accepts candidate tokens";
  let description = [{
    `greedy` accepts a candidate when it equals the target's argmax, so the
    output is exactly greedy decoding of the target; `rejection` is
    speculative sampling (Leviathan et al. 2023, and its recursive form for
    trees from SpecInfer), whose output is distributed exactly as sampling
    from the target.
  }];
}

#endif // KVANT_DIALECTS_SPEC_IR_SPECATTRS_TD
