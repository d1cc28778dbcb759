//===- SpecBase.td - spec dialect definition ---------------*- tablegen -*-===//
//
// The spec dialect: one step of speculative decoding as IR, from proposing
// draft tokens to committing the verdict of the target model.
//
//===----------------------------------------------------------------------===//

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
    Speculative decoding lets a cheap proposer guess several tokens ahead and
    has the target model check all of them in one forward pass. The `spec`
    dialect spells one such step as four stages:

    1. `spec.draft` proposes `K` tokens after the token history, from a draft
       model function or by n-gram / suffix lookup in the history itself.
    2. `spec.tree` arranges candidate tokens into a `!spec.tree`: node 0 is
       the *root*, the last token already accepted (whose key/value entries
       are not in the cache yet), and every other node is a candidate whose
       parent comes earlier. A chain of `K` drafts is the tree of `K + 1`
       nodes in which node `i` is the parent of node `i + 1`; Medusa/EAGLE
       style trees branch. `spec.tree_mask` and `spec.tree_depths` give the
       attention mask and position offsets with which the target model runs
       on all nodes at once (tree attention).
    3. `spec.verify` reads the target model's logits for every node (row `i`
       is the distribution of the token that follows the path root → `i`)
       and walks down from the root, accepting at each level the first
       child that passes the rule (greedy match or rejection sampling),
       then adds one bonus token from the target.
    4. `spec.accept` turns the verdict into the accepted token sequence and
       drops the key/value cache entries of rejected nodes.

    ```mlir
    %draft = spec.draft ngram %history n = 2 : tensor<?xi32> -> tensor<3xi32>
    %tokens = tensor.concat dim(0) %last, %draft
        : (tensor<1xi32>, tensor<3xi32>) -> tensor<4xi32>
    %tree = spec.tree %tokens parents [-1, 0, 1, 2]
        : tensor<4xi32> -> !spec.tree<4, depth = 3>
    // ... run the target on %tokens with spec.tree_mask / spec.tree_depths ...
    %count, %path, %bonus = spec.verify greedy %tree, %logits
        : !spec.tree<4, depth = 3>, tensor<4x32000xf32> -> tensor<4xi32>
    %accepted, %cache1 = spec.accept %tree, %count, %path, %bonus
        caches(%cache0 : !kv.cache<...>) : !spec.tree<4, depth = 3>, tensor<4xi32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::kvant::kv::KVDialect"];
  let hasConstantMaterializer = 1;
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
}

class Spec_Op<string mnemonic, list<Trait> traits = []>
    : Op<Spec_Dialect, mnemonic, traits>;

class Spec_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Spec_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

#endif // KVANT_DIALECTS_SPEC_IR_SPECBASE_TD
