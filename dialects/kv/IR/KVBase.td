//===- KVBase.td - kv dialect definition ------------------*- tablegen -*-===//
//
// The kv dialect: the KV cache of a transformer as a typed SSA value.
//
//===----------------------------------------------------------------------===//

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
    The `kv` dialect makes the key/value cache of a decoder-only transformer
    an SSA value whose type states its whole geometry:

    ```mlir
    !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
    ```

    The cache has value semantics: `kv.append`, `kv.quantize`, `kv.evict`
    and `kv.rollback` return a new cache and leave their operand unchanged,
    so the ops are `Pure` and the usual SSA transformations (CSE, DCE,
    hoisting) apply. Bufferization turns the chain of cache values into
    in-place updates of one paged buffer.

    How many tokens a cache holds is not part of its value: the program
    carries that length as an `index` (llama.cpp's `n_past`) and passes it to
    the ops that need it (`kv.append` writes at a position, `kv.read` reads
    a prefix, `kv.rollback` truncates to a length, `kv.evict` returns the
    length it leaves). Every layer holds the same token positions.

    Elements are stored either as floats (f32, f16, bf16) or in a `qt`
    quantization scheme (`#qt.grouped<...>`, `#qt.gguf<...>`) whose blocks run
    along `head_dim`. Values enter and leave the cache as float tensors of
    shape `[tokens, heads, head_dim]`; quantization and dequantization happen
    inside `kv.append` and `kv.read`.
  }];
  let dependentDialects = ["::kvant::qt::QtDialect"];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
}

class KV_Op<string mnemonic, list<Trait> traits = []>
    : Op<KV_Dialect, mnemonic, traits>;

class KV_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<KV_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

class KV_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<KV_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // KVANT_DIALECTS_KV_IR_KVBASE_TD
