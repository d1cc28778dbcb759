//===- KVOps.td - kv operations ---------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_KV_IR_KVOPS_TD
#define KVANT_DIALECTS_KV_IR_KVOPS_TD

include "dialects/kv/IR/KVBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

#endif // KVANT_DIALECTS_KV_IR_KVOPS_TD
