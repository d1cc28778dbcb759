//===- KVAttrs.td - kv eviction policy attributes ----------*- tablegen -*-===//
//
// Eviction policies. Each implements EvictionPolicyAttrInterface, which is
// what kv.evict and its lowerings query.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_DIALECTS_KV_IR_KVATTRS_TD
#define KVANT_DIALECTS_KV_IR_KVATTRS_TD

include "dialects/kv/IR/KVBase.td"

def KV_EvictionPolicyAttrInterface
    : AttrInterface<"EvictionPolicyAttrInterface"> {
  let cppNamespace = "::kvant::kv";
  let description = [{
    A rule that chooses which cached tokens `kv.evict` keeps. Kept tokens
    are compacted to the front of the cache in their original order.
  }];
  let methods = [
    InterfaceMethod<"Most tokens the policy keeps.", "int64_t", "getBudget">,
    InterfaceMethod<"Whether the policy ranks tokens by a scores operand.",
                    "bool", "needsScores">,
  ];
}

def KV_SinkWindowAttr : KV_Attr<"SinkWindow", "sink_window", [
    DeclareAttrInterfaceMethods<KV_EvictionPolicyAttrInterface>]> {
  let summary = "Keep the first `sink` tokens and the last `window` tokens";
  let description = [{
    The StreamingLLM policy: the first `sink` tokens (attention sinks) and
    the most recent `window` tokens stay, everything between them is
    evicted. `sink = 0` is a plain sliding window.

    ```mlir
    #streaming = #kv.sink_window<sink = 4, window = 1020>
    #sliding   = #kv.sink_window<sink = 0, window = 4096>
    ```
  }];
  let parameters = (ins "int64_t":$sink, "int64_t":$window);
  let assemblyFormat = "`<` `sink` `=` $sink `,` `window` `=` $window `>`";
  let genVerifyDecl = 1;
}

def KV_ScoreAttr : KV_Attr<"Score", "score", [
    DeclareAttrInterfaceMethods<KV_EvictionPolicyAttrInterface>]> {
  let summary = "Keep the `keep` tokens with the highest accumulated score";
  let description = [{
    The H2O ("heavy hitter") policy: `kv.evict` takes one accumulated
    attention score per cached position and keeps the `keep` positions with
    the highest scores (ties broken towards the more recent token).

    ```mlir
    #h2o = #kv.score<keep = 512>
    ```
  }];
  let parameters = (ins "int64_t":$keep);
  let assemblyFormat = "`<` `keep` `=` $keep `>`";
  let genVerifyDecl = 1;
}

#endif // KVANT_DIALECTS_KV_IR_KVATTRS_TD
