//===- QtBase.td - qt dialect definition -------------------*- tablegen -*-===//
//
// The qt dialect: quantized tensors and the ops that make, unmake and compute
// with them.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_DIALECTS_QT_IR_QTBASE_TD
#define KVANT_DIALECTS_QT_IR_QTBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Qt_Dialect : Dialect {
  let name = "qt";
  let cppNamespace = "::kvant::qt";
  let summary = "Quantized tensors: storage formats, (de)quantization, quantized matmul";
  let description = [{
    The `qt` dialect makes the quantization format of a tensor part of its
    type. A `!qt.tensor` is a logical `N x K` (or any rank) tensor whose
    elements are stored in blocks along the innermost dimension according to a
    *scheme* attribute:

    * `#qt.grouped<...>` — a generic group-wise affine scheme: a storage
      element type (i8, i4, i2, ternary, f8E4M3FN, f4E2M1FN, ...), a group
      size along the innermost axis, per-group scales and optional zero
      points. This is the scheme of GPTQ/AWQ-style int4, per-channel int8
      (group = K), fp8 and fp4 weights.
    * `#qt.gguf<...>` — a named GGUF block format (Q8_0, Q4_0, Q4_K, Q6_K,
      ...) whose bytes are laid out exactly as llama.cpp stores them.

    MLIR's `quant.uniform` types carry their scales as compile-time
    constants; model weights carry theirs as data in the weight file, so `qt`
    keeps scales as runtime data and uses its own scheme attributes. Every
    scheme is described once (block shape, bytes per block, storage width) by
    the `QuantScheme` attribute interface, and that description is what
    importers, verifiers and lowerings query.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
}

class Qt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qt_Dialect, mnemonic, traits>;

class Qt_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Qt_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

class Qt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Qt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // KVANT_DIALECTS_QT_IR_QTBASE_TD
