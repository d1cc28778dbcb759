//===- KVTypes.td - kv types -------------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_KV_IR_KVTYPES_TD
#define KVANT_DIALECTS_KV_IR_KVTYPES_TD

include "dialects/kv/IR/KVAttrs.td"

def KV_CacheType : KV_Type<"Cache", "cache"> {
  let summary = "A paged key/value cache of fixed geometry";
  let description = [{
    Keys and values of `layers` transformer layers, each of `heads` KV heads
    of `head_dim` elements, for up to `capacity` tokens stored in pages of
    `page` tokens. The last parameter is the element: `f32`, `f16` or
    `bf16` for a float cache, or a quantization scheme attribute (any
    attribute implementing `QuantSchemeAttrInterface`) for a quantized one,
    whose blocks run along `head_dim`.

    ```mlir
    !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
    !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048,
              #qt.grouped<i8, group = 64, scale = f16>>
    ```

    All sizes are positive, `capacity` is a multiple of `page`, and a
    quantized scheme's block size divides `head_dim`.
  }];
  let parameters = (ins "int64_t":$layers, "int64_t":$heads,
                        "int64_t":$headDim, "int64_t":$page,
                        "int64_t":$capacity,
                        AttrParameter<"::mlir::Attribute",
                          "f32, f16 or bf16 as a TypeAttr, or a quantization "
                          "scheme">:$element);
  let assemblyFormat = [{
    `<` `layers` `=` $layers `,` `heads` `=` $heads `,`
        `head_dim` `=` $headDim `,` `page` `=` $page `,`
        `capacity` `=` $capacity `,` $element `>`
  }];
  let builders = [
    TypeBuilder<(ins "int64_t":$layers, "int64_t":$heads, "int64_t":$headDim,
                     "int64_t":$page, "int64_t":$capacity,
                     "::mlir::Type":$elementType), [{
      return $_get($_ctxt, layers, heads, headDim, page, capacity,
                   ::mlir::TypeAttr::get(elementType));
    }]>,
  ];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether elements are stored in a quantization scheme.
    bool isQuantized() const;
    /// The float element type of a float cache; null when quantized.
    ::mlir::FloatType getFloatElementType() const;
    /// The quantization scheme of a quantized cache; null for floats.
    ::kvant::qt::QuantSchemeAttrInterface getScheme() const;
    /// Pages per layer.
    int64_t getNumPages() const { return getCapacity() / getPage(); }
    /// Bytes one token occupies in one layer, keys and values together.
    int64_t getBytesPerTokenPerLayer() const;
    /// Bytes one page of one layer occupies, keys and values together.
    int64_t getBytesPerPage() const {
      return getPage() * getBytesPerTokenPerLayer();
    }
    /// Bytes the whole cache occupies at full capacity.
    int64_t getNumBytes() const {
      return getLayers() * getCapacity() * getBytesPerTokenPerLayer();
    }
    /// The type of the keys (or values) of `tokens` tokens of one layer:
    /// `tensor<tokens x heads x head_dim x elementType>`.
    ::mlir::RankedTensorType getTokensType(int64_t tokens,
                                           ::mlir::Type elementType) const;
    /// The same geometry with another element.
    CacheType cloneWithElement(::mlir::Attribute element) const;
  }];
}

#endif // KVANT_DIALECTS_KV_IR_KVTYPES_TD
