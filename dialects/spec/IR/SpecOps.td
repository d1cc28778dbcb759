//===- SpecOps.td - spec operations ---------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_SPEC_IR_SPECOPS_TD
#define KVANT_DIALECTS_SPEC_IR_SPECOPS_TD

include "dialects/spec/IR/SpecBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

#endif // KVANT_DIALECTS_SPEC_IR_SPECOPS_TD
