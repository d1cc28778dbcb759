//===- ShapeFormat.h - shapes as diagnostics print them ---------*- C++ -*-===//
//
// One spelling of a shape in kvant's messages ("4x?x64", as in tensor types),
// shared by the dialects' verifiers and the importer.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_SUPPORT_SHAPEFORMAT_H
#define KVANT_LIB_SUPPORT_SHAPEFORMAT_H

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace kvant {

/// `shape` as its dims joined by 'x', a dynamic dim printed as '?'.
inline std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (mlir::ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      "x");
  return s;
}

} // namespace kvant

#endif // KVANT_LIB_SUPPORT_SHAPEFORMAT_H
