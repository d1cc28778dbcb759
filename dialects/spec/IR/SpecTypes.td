//===- SpecTypes.td - spec types ---------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_SPEC_IR_SPECTYPES_TD
#define KVANT_DIALECTS_SPEC_IR_SPECTYPES_TD

include "dialects/spec/IR/SpecAttrs.td"

def Spec_TreeType : Spec_Type<"Tree", "tree"> {
  let summary = "A tree of candidate tokens rooted at the last accepted token";
  let description = [{
    A tree of `nodes` tokens. Node 0 is the root, the last token already
    accepted; every other node is a candidate continuation of its parent,
    and parents come before their children. `depth` is the number of edges
    on the longest root-to-leaf path, hence the most draft tokens one step
    can accept. A chain of `K` drafts is `!spec.tree<K+1, depth = K>`; the
    root alone is `!spec.tree<1, depth = 0>`.

    ```mlir
    !chain = !spec.tree<5, depth = 4>
    !medusa = !spec.tree<64, depth = 4>
    ```
  }];
  let parameters = (ins "int64_t":$nodes, "int64_t":$depth);
  let assemblyFormat = "`<` $nodes `,` `depth` `=` $depth `>`";
  let genVerifyDecl = 1;
}

#endif // KVANT_DIALECTS_SPEC_IR_SPECTYPES_TD
