# Helpers that keep each dialect's CMakeLists.txt to the few lines that differ.

# kvant_dialect_tablegen(<Prefix> <namespace>)
#   Runs mlir-tblgen on <Prefix>Ops.td (which includes the dialect's base,
#   attribute and type .td files) and produces the dialect, op, type, attribute
#   and enum declarations/definitions plus the generated Markdown doc.
#   Defines the target Kvant<Prefix>IncGen.
function(kvant_dialect_tablegen prefix ns)
  set(LLVM_TARGET_DEFINITIONS ${prefix}Ops.td)
  mlir_tablegen(${prefix}Ops.h.inc -gen-op-decls)
  mlir_tablegen(${prefix}Ops.cpp.inc -gen-op-defs)
  mlir_tablegen(${prefix}Dialect.h.inc -gen-dialect-decls -dialect=${ns})
  mlir_tablegen(${prefix}Dialect.cpp.inc -gen-dialect-defs -dialect=${ns})
  mlir_tablegen(${prefix}Types.h.inc -gen-typedef-decls -typedefs-dialect=${ns})
  mlir_tablegen(${prefix}Types.cpp.inc -gen-typedef-defs -typedefs-dialect=${ns})
  mlir_tablegen(${prefix}Attrs.h.inc -gen-attrdef-decls -attrdefs-dialect=${ns})
  mlir_tablegen(${prefix}Attrs.cpp.inc -gen-attrdef-defs -attrdefs-dialect=${ns})
  mlir_tablegen(${prefix}Enums.h.inc -gen-enum-decls)
  mlir_tablegen(${prefix}Enums.cpp.inc -gen-enum-defs)
  add_public_tablegen_target(Kvant${prefix}IncGen)
  add_mlir_doc(${prefix}Ops ${prefix}Dialect kvant/ -gen-dialect-doc -dialect=${ns})
endfunction()

# kvant_pass_tablegen(<Prefix>)
#   Generates <Prefix>Passes.h.inc from Passes.td and its Markdown doc.
function(kvant_pass_tablegen prefix)
  set(LLVM_TARGET_DEFINITIONS Passes.td)
  mlir_tablegen(Passes.h.inc -gen-pass-decls -name ${prefix})
  add_public_tablegen_target(Kvant${prefix}PassIncGen)
  add_mlir_doc(Passes ${prefix}Passes kvant/ -gen-pass-doc)
endfunction()
