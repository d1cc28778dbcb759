//===- QtAttrs.td - qt scheme attributes -------------------*- tablegen -*-===//
//
// Quantization schemes. Each implements QuantSchemeAttrInterface, the single
// description of a format that verifiers, the importer and the lowerings read.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_DIALECTS_QT_IR_QTATTRS_TD
#define KVANT_DIALECTS_QT_IR_QTATTRS_TD

include "dialects/qt/IR/QtBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Qt_QuantSchemeAttrInterface : AttrInterface<"QuantSchemeAttrInterface"> {
  let cppNamespace = "::kvant::qt";
  let description = [{
    The description of a quantization format shared by every consumer: how
    many logical elements form one block along the innermost axis, how many
    bytes such a block occupies (values, scales and zero points together),
    and the element type a value is stored in before scaling.
  }];
  let methods = [
    InterfaceMethod<"Logical elements per block along the innermost axis.",
                    "int64_t", "getBlockSize">,
    InterfaceMethod<"Bytes one block occupies, scales and zero points included.",
                    "int64_t", "getBlockBytes">,
    InterfaceMethod<"Storage element type before scaling (e.g. i4, f8E4M3FN).",
                    "::mlir::Type", "getStorageType">,
    InterfaceMethod<"Short name of the format, as printed in diagnostics.",
                    "std::string", "getFormatName">,
  ];
  let extraClassDeclaration = [{
    /// Average storage cost of one element in bits.
    double getBitsPerElement() {
      return 8.0 * getBlockBytes() / getBlockSize();
    }
  }];
}

def Qt_GGUFFormat : I32EnumAttr<"GGUFFormat", "GGUF block format", [
    // Values are GGML's type ids so that import is a cast.
    I32EnumAttrCase<"Q4_0", 2, "q4_0">,
    I32EnumAttrCase<"Q4_1", 3, "q4_1">,
    I32EnumAttrCase<"Q5_0", 6, "q5_0">,
    I32EnumAttrCase<"Q5_1", 7, "q5_1">,
    I32EnumAttrCase<"Q8_0", 8, "q8_0">,
    I32EnumAttrCase<"Q8_1", 9, "q8_1">,
    I32EnumAttrCase<"Q2_K", 10, "q2_k">,
    I32EnumAttrCase<"Q3_K", 11, "q3_k">,
    I32EnumAttrCase<"Q4_K", 12, "q4_k">,
    I32EnumAttrCase<"Q5_K", 13, "q5_k">,
    I32EnumAttrCase<"Q6_K", 14, "q6_k">,
    I32EnumAttrCase<"Q8_K", 15, "q8_k">,
    I32EnumAttrCase<"IQ4_NL", 20, "iq4_nl">,
    I32EnumAttrCase<"TQ1_0", 34, "tq1_0">,
    I32EnumAttrCase<"TQ2_0", 35, "tq2_0">,
    I32EnumAttrCase<"MXFP4", 39, "mxfp4">,
  ]> {
  let cppNamespace = "::kvant::qt";
  let genSpecializedAttr = 0;
}

def Qt_GGUFSchemeAttr : Qt_Attr<"GGUFScheme", "gguf", [
    DeclareAttrInterfaceMethods<Qt_QuantSchemeAttrInterface>]> {
  let summary = "A GGUF block format, with llama.cpp's byte layout";
  let description = [{
    Names one of GGUF's block formats. Blocks run along the innermost axis;
    each block is stored exactly as in a GGUF file (e.g. Q8_0: an f16 scale
    followed by 32 int8 quants, 34 bytes for 32 elements).

    `interleave = R` (a compute layout, R > 1, for a matrix [N, K] with N a
    multiple of R) stores the R rows of each group `g` together: block `b`
    of the rows `g * R .. g * R + R - 1` takes the R blocks' bytes starting
    at byte `(g * K / B + b) * R * blockBytes` of the matrix, field by field
    in the order of ggml's block struct, each field holding the R rows'
    copies in row order. For Q4_0 (fields: the f16 scale `d`, 16 bytes of
    nibbles `qs`) and R = 8 that is the 8 rows' scales (16 bytes), then
    their nibbles (8 x 16 bytes); llama.cpp's `block_q4_0x8` also keeps
    the 8 scales together. A GEMV then
    reads one stream per R rows, loads the R rows' scales as one vector and
    accumulates R rows in the lanes of one register. The artifact's repack
    entry point produces it from the file's layout at load (see
    `qt-interleave-weights`).

    ```mlir
    !w = !qt.tensor<4096x4096, #qt.gguf<q8_0>>
    !k = !qt.tensor<11008x4096, #qt.gguf<q4_k>>
    !r = !qt.tensor<5632x2048, #qt.gguf<q4_0, interleave = 8>>
    ```
  }];
  let parameters = (ins EnumParameter<Qt_GGUFFormat>:$format,
                        DefaultValuedParameter<"int64_t", "1">:$interleave);
  let builders = [
    AttrBuilder<(ins "GGUFFormat":$format), [{
      return $_get($_ctxt, format, 1);
    }]>
  ];
  let assemblyFormat = "`<` $format (`,` `interleave` `=` $interleave^)? `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Rows whose blocks are stored interleaved (1: the file's layout).
    bool isInterleaved() const { return getInterleave() > 1; }
  }];
}

def Qt_GroupedSchemeAttr : Qt_Attr<"GroupedScheme", "grouped", [
    DeclareAttrInterfaceMethods<Qt_QuantSchemeAttrInterface>]> {
  let summary = "Group-wise affine quantization along the innermost axis";
  let description = [{
    `value = scale[g] * (q - zero[g])` for every element `q` of group `g`,
    where groups are `group` consecutive elements along the innermost axis.
    Without `zero` the scheme is symmetric. Storage may be a signless,
    signed or unsigned integer of 1, 2, 4 or 8 bits, `!qt.ternary`
    (values in {-1, 0, 1}), or a small float (`f8E4M3FN`, `f8E5M2`,
    `f4E2M1FN`); float and ternary storage take no zero point.

    ```mlir
    #int4_awq   = #qt.grouped<i4, group = 128, scale = f16, zero = i8>
    #int8_rows  = #qt.grouped<i8, group = 4096, scale = f32>
    #fp8        = #qt.grouped<f8E4M3FN, group = 32, scale = f16>
    #bitnet     = #qt.grouped<!qt.ternary, group = 256, scale = f16>
    ```
  }];
  let parameters = (ins "::mlir::Type":$storage, "int64_t":$group,
                        "::mlir::FloatType":$scale,
                        OptionalParameter<"::mlir::Type">:$zero);
  let assemblyFormat = [{
    `<` $storage `,` `group` `=` $group `,` `scale` `=` $scale
        (`,` `zero` `=` $zero^)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isSymmetric() const { return !getZero(); }
    /// Bits one stored value occupies (ternary values take 2).
    unsigned getStorageBits() const;
  }];
}

#endif // KVANT_DIALECTS_QT_IR_QTATTRS_TD
