//===- QtTypes.td - qt types -------------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_QT_IR_QTTYPES_TD
#define KVANT_DIALECTS_QT_IR_QTTYPES_TD

include "dialects/qt/IR/QtAttrs.td"

def Qt_TernaryType : Qt_Type<"Ternary", "ternary"> {
  let summary = "A ternary storage element: -1, 0 or +1 (1.58 bits)";
  let description = [{
    The storage element of BitNet b1.58-style weights. Stored packed at 2
    bits per value by `#qt.grouped`; GGUF's TQ1_0/TQ2_0 have their own
    layouts.
  }];
}

def Qt_TensorType : Qt_Type<"QuantizedTensor", "tensor"> {
  let summary = "A tensor whose elements are stored in a quantized scheme";
  let description = [{
    A logical tensor of the given shape whose innermost dimension is split
    into blocks of the scheme's block size. The innermost dimension is static
    and a multiple of that block size; outer dimensions may be dynamic (`?`).
    The scheme is any attribute implementing `QuantSchemeAttrInterface`.

    ```mlir
    !qt.tensor<4096x4096, #qt.gguf<q8_0>>
    !qt.tensor<?x128, #qt.grouped<i8, group = 32, scale = f32>>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "QuantSchemeAttrInterface":$scheme);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRank() const { return getShape().size(); }
    bool hasStaticShape() const;
    /// Blocks in the tensor; requires a static shape.
    int64_t getNumBlocks() const;
    /// Bytes the tensor occupies in its scheme; requires a static shape.
    int64_t getNumBytes() const;
    /// The i8 tensor type of its bytes (qt.from_bytes, qt.to_bytes): the same
    /// outer dimensions, innermost the bytes of the blocks along it.
    ::mlir::RankedTensorType getBytesType() const;
    /// The builtin tensor type of the same shape with `elementType` elements.
    ::mlir::RankedTensorType getDequantizedType(::mlir::Type elementType) const;
  }];
}

#endif // KVANT_DIALECTS_QT_IR_QTTYPES_TD
