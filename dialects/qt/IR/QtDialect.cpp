//===- QtDialect.cpp - qt dialect, types and attributes -------------------===//

#include "dialects/qt/IR/QtDialect.h"
#include "dialects/qt/IR/QtFormats.h"
#include "dialects/qt/IR/QtOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kvant::qt;

#include "dialects/qt/IR/QtDialect.cpp.inc"
#include "dialects/qt/IR/QtEnums.cpp.inc"

#include "dialects/qt/IR/QtAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/qt/IR/QtAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/qt/IR/QtTypes.cpp.inc"

void QtDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/qt/IR/QtAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/qt/IR/QtTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/qt/IR/QtOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// GGUFSchemeAttr
//===----------------------------------------------------------------------===//

LogicalResult
GGUFSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       GGUFFormat format, int64_t interleave) {
  if (interleave < 1)
    return emitError() << "interleave must be at least 1, got " << interleave;
  return success();
}

int64_t GGUFSchemeAttr::getBlockSize() const {
  return getGGUFBlockLayout(getFormat()).blockSize;
}

int64_t GGUFSchemeAttr::getBlockBytes() const {
  return getGGUFBlockLayout(getFormat()).blockBytes;
}

Type GGUFSchemeAttr::getStorageType() const {
  return IntegerType::get(getContext(),
                          getGGUFBlockLayout(getFormat()).quantBits);
}

std::string GGUFSchemeAttr::getFormatName() const {
  std::string name = stringifyGGUFFormat(getFormat()).str();
  if (isInterleaved())
    name += " (rows interleaved by " + std::to_string(getInterleave()) + ")";
  return name;
}

//===----------------------------------------------------------------------===//
// GroupedSchemeAttr
//===----------------------------------------------------------------------===//

static bool isSmallFloat(Type t) {
  return isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType>(t);
}

LogicalResult
GroupedSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          Type storage, int64_t group, FloatType scale,
                          Type zero) {
  if (group <= 0)
    return emitError() << "group size must be positive, got " << group;
  if (auto intType = dyn_cast<IntegerType>(storage)) {
    unsigned width = intType.getWidth();
    if (width != 1 && width != 2 && width != 4 && width != 8)
      return emitError() << "storage width of " << width
                         << " bits is not supported; expected 1, 2, 4 or 8";
  } else if (!isa<TernaryType>(storage) && !isSmallFloat(storage)) {
    return emitError() << "storage type " << storage
                       << " is not an integer, !qt.ternary, f8E4M3FN, "
                          "f8E5M2 or f4E2M1FN";
  }
  if (!zero)
    return success();
  if (isa<TernaryType>(storage) || isSmallFloat(storage))
    return emitError() << "storage type " << storage << " takes no zero point";
  if (!isa<IntegerType, FloatType>(zero))
    return emitError() << "zero point type " << zero
                       << " must be an integer or float type";
  if (auto zeroInt = dyn_cast<IntegerType>(zero)) {
    // An integer zero point has to hold every storage value it offsets.
    unsigned storageBits = cast<IntegerType>(storage).getWidth();
    if (zeroInt.getWidth() < storageBits)
      return emitError() << "zero point type " << zero
                         << " is narrower than the storage type " << storage;
  }
  return success();
}

unsigned GroupedSchemeAttr::getStorageBits() const {
  if (isa<TernaryType>(getStorage()))
    return 2;
  if (auto intType = dyn_cast<IntegerType>(getStorage()))
    return intType.getWidth();
  return getStorage().getIntOrFloatBitWidth();
}

int64_t GroupedSchemeAttr::getBlockSize() const { return getGroup(); }

int64_t GroupedSchemeAttr::getBlockBytes() const {
  int64_t bits = getGroup() * getStorageBits() + getScale().getWidth();
  if (Type zero = getZero())
    bits += zero.getIntOrFloatBitWidth();
  return llvm::divideCeil(bits, 8);
}

Type GroupedSchemeAttr::getStorageType() const { return getStorage(); }

std::string GroupedSchemeAttr::getFormatName() const {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "grouped " << getStorage() << " (group " << getGroup() << ")";
  return name;
}

//===----------------------------------------------------------------------===//
// TensorType
//===----------------------------------------------------------------------===//

Type QuantizedTensorType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Attribute scheme;
  SMLoc schemeLoc;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/true,
                                /*withTrailingX=*/false) ||
      parser.parseComma() || parser.getCurrentLocation(&schemeLoc) ||
      parser.parseAttribute(scheme) || parser.parseGreater())
    return {};
  auto schemeIface = dyn_cast<QuantSchemeAttrInterface>(scheme);
  if (!schemeIface) {
    parser.emitError(schemeLoc)
        << "expected a quantization scheme attribute, got " << scheme;
    return {};
  }
  return parser.getChecked<QuantizedTensorType>(parser.getContext(), shape,
                                                schemeIface);
}

void QuantizedTensorType::print(AsmPrinter &printer) const {
  printer << "<";
  printer.printDimensionList(getShape());
  printer << ", " << getScheme() << ">";
}

LogicalResult
QuantizedTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                            ArrayRef<int64_t> shape,
                            QuantSchemeAttrInterface scheme) {
  if (shape.empty())
    return emitError() << "quantized tensor must have rank >= 1";
  for (int64_t dim : shape)
    if (dim != ShapedType::kDynamic && dim < 0)
      return emitError() << "dimension size must be non-negative, got " << dim;
  int64_t inner = shape.back();
  if (ShapedType::isDynamic(inner))
    return emitError() << "innermost dimension must be static: blocks of "
                       << scheme.getFormatName() << " run along it";
  int64_t block = scheme.getBlockSize();
  if (inner % block != 0)
    return emitError() << "innermost dimension " << inner
                       << " is not a multiple of the block size " << block
                       << " of " << scheme.getFormatName();
  if (auto gguf = dyn_cast<GGUFSchemeAttr>(scheme);
      gguf && gguf.isInterleaved()) {
    if (shape.size() != 2)
      return emitError() << "interleaved rows need a matrix, got rank "
                         << shape.size();
    int64_t rows = shape.front();
    if (ShapedType::isDynamic(rows) || rows % gguf.getInterleave() != 0)
      return emitError() << "interleave " << gguf.getInterleave()
                         << " needs a static row count that it divides, got "
                         << (ShapedType::isDynamic(rows)
                                 ? std::string("?")
                                 : std::to_string(rows));
  }
  return success();
}

bool QuantizedTensorType::hasStaticShape() const {
  return llvm::none_of(getShape(), ShapedType::isDynamic);
}

int64_t QuantizedTensorType::getNumBlocks() const {
  assert(hasStaticShape() && "requires a static shape");
  int64_t elements = 1;
  for (int64_t dim : getShape())
    elements *= dim;
  return elements / getScheme().getBlockSize();
}

int64_t QuantizedTensorType::getNumBytes() const {
  return getNumBlocks() * getScheme().getBlockBytes();
}

RankedTensorType QuantizedTensorType::getBytesType() const {
  SmallVector<int64_t> shape(getShape());
  shape.back() =
      shape.back() / getScheme().getBlockSize() * getScheme().getBlockBytes();
  return RankedTensorType::get(shape, IntegerType::get(getContext(), 8));
}

RankedTensorType
QuantizedTensorType::getDequantizedType(Type elementType) const {
  return RankedTensorType::get(getShape(), elementType);
}
