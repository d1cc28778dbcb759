//===- SpecOps.cpp - spec operations --------------------------------------===//

#include "dialects/spec/IR/SpecOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kvant::spec;

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

/// Parses the types of the cache operands of spec.accept; its updated caches
/// have the same types, so they are written once.
static ParseResult parseCacheTypes(OpAsmParser &parser,
                                   SmallVectorImpl<Type> &caches,
                                   SmallVectorImpl<Type> &updated) {
  if (parser.parseTypeList(caches))
    return failure();
  updated.assign(caches.begin(), caches.end());
  return success();
}

static void printCacheTypes(OpAsmPrinter &printer, Operation *,
                            TypeRange caches, TypeRange) {
  llvm::interleaveComma(caches, printer);
}

/// Parses an enum attribute written as its bare keyword (`greedy`); upstream's
/// EnumAttr printer would put two spaces before it right after the op name.
template <typename AttrT>
static ParseResult parseEnumKeyword(OpAsmParser &parser, AttrT &attr) {
  using EnumT = decltype(std::declval<AttrT>().getValue());
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumT> value = symbolizeEnum<EnumT>(keyword);
  if (!value)
    return parser.emitError(loc, "unknown ")
           << AttrT::getMnemonic() << " '" << keyword << "'";
  attr = AttrT::get(parser.getContext(), *value);
  return success();
}

template <typename AttrT>
static void printEnumKeyword(OpAsmPrinter &printer, Operation *, AttrT attr) {
  printer << stringifyEnum(attr.getValue());
}

#define GET_OP_CLASSES
#include "dialects/spec/IR/SpecOps.cpp.inc"

/// Returns whether two dimension sizes may be equal at run time.
static bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

//===----------------------------------------------------------------------===//
// DraftOp
//===----------------------------------------------------------------------===//

LogicalResult DraftOp::verify() {
  int64_t k = getNumTokens();
  if (ShapedType::isDynamic(k))
    return emitOpError("the number of draft tokens must be static");
  if (k == 0)
    return emitOpError("must propose at least one token");

  if (getMethod() == DraftMethod::Model) {
    if (!getCallee())
      return emitOpError("model drafts need a draft function (`using @f`)");
  } else if (getCallee()) {
    return emitOpError("lookup drafts take no draft function");
  }

  if (getMethod() == DraftMethod::NGram) {
    if (!getN())
      return emitOpError("ngram drafts need a match length `n`");
    if (*getN() < 1)
      return emitOpError("match length n must be positive, got ") << *getN();
  } else if (getN()) {
    return emitOpError("a match length `n` only applies to ngram drafts");
  }

  if (isLookup()) {
    if (getSeed())
      return emitOpError("lookup drafts are deterministic and take no seed");
    if (getProbs())
      return emitOpError("only model drafts produce probabilities");
  }
  if (std::optional<APFloat> t = getTemperature()) {
    if (!getSeed())
      return emitOpError("a temperature needs a sampled draft (`seed`)");
    if (!t->isFiniteNonZero() || t->isNegative())
      return emitOpError("temperature must be positive, got ")
             << t->convertToDouble();
  }

  if (Value probs = getProbs()) {
    auto probsType = cast<RankedTensorType>(probs.getType());
    if (!compatible(probsType.getDimSize(0), k))
      return emitOpError("probs have ")
             << probsType.getDimSize(0) << " rows but " << k
             << " tokens are drafted";
  }
  return success();
}

LogicalResult DraftOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FlatSymbolRefAttr callee = getCalleeAttr();
  if (!callee)
    return success();
  auto func = symbolTable.lookupNearestSymbolFrom<func::FuncOp>(*this, callee);
  if (!func)
    return emitOpError() << callee << " does not reference a func.func";
  FunctionType fnType = func.getFunctionType();
  auto logits = fnType.getNumResults() == 1
                    ? dyn_cast<RankedTensorType>(fnType.getResult(0))
                    : RankedTensorType();
  if (fnType.getNumInputs() != 1 ||
      fnType.getInput(0) != getHistory().getType() || !logits ||
      logits.getRank() != 1 || !isa<FloatType>(logits.getElementType()))
    return emitOpError("draft function must map the history (")
           << getHistory().getType()
           << ") to next-token logits (tensor<Vxf*>), got " << fnType;
  if (Value probs = getProbs()) {
    int64_t vocab = cast<RankedTensorType>(probs.getType()).getDimSize(1);
    if (!compatible(vocab, logits.getDimSize(0)))
      return emitOpError("probs cover ")
             << vocab << " tokens but the draft function scores "
             << logits.getDimSize(0);
  }
  return success();
}

void DraftOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (isLookup())
    return;
  // The draft model function may touch any memory (weights, its own cache).
  effects.emplace_back(MemoryEffects::Read::get());
  effects.emplace_back(MemoryEffects::Write::get());
}

//===----------------------------------------------------------------------===//
// TreeOp, TreeMaskOp, TreeDepthsOp
//===----------------------------------------------------------------------===//

/// Depth of every node of a tree given by valid `parents`.
static SmallVector<int32_t> computeDepths(ArrayRef<int32_t> parents) {
  SmallVector<int32_t> depths(parents.size(), 0);
  for (size_t i = 1; i < parents.size(); ++i)
    depths[i] = depths[parents[i]] + 1;
  return depths;
}

LogicalResult TreeOp::verify() {
  TreeType tree = getType();
  int64_t numTokens = getTokens().getType().getDimSize(0);
  if (numTokens != tree.getNodes())
    return emitOpError("has ") << numTokens << " tokens but the tree has "
                               << tree.getNodes() << " nodes";
  ArrayRef<int32_t> parents = getParents();
  if (static_cast<int64_t>(parents.size()) != tree.getNodes())
    return emitOpError("has ") << parents.size() << " parents but the tree has "
                               << tree.getNodes() << " nodes";
  if (parents[0] != -1)
    return emitOpError("the root's parent must be -1, got ") << parents[0];
  for (auto [i, parent] : llvm::enumerate(parents.drop_front()))
    if (parent < 0 || parent > static_cast<int32_t>(i))
      return emitOpError("node ")
             << i + 1 << " has parent " << parent
             << "; parents must be earlier nodes (0 to " << i << ")";
  SmallVector<int32_t> depths = computeDepths(parents);
  int64_t depth = *llvm::max_element(depths);
  if (depth != tree.getDepth())
    return emitOpError("the parents give a tree of depth ")
           << depth << " but the type says " << tree.getDepth();
  return success();
}

/// The parents of `tree` when it is built by spec.tree in sight.
static std::optional<ArrayRef<int32_t>> getKnownParents(Value tree) {
  if (auto treeOp = tree.getDefiningOp<TreeOp>())
    return treeOp.getParents();
  return std::nullopt;
}

LogicalResult TreeMaskOp::verify() {
  int64_t nodes = getTree().getType().getNodes();
  auto mask = cast<RankedTensorType>(getMask().getType());
  if (mask.getShape() != ArrayRef<int64_t>{nodes, nodes})
    return emitOpError("mask must be ")
           << nodes << "x" << nodes << " for a tree of " << nodes
           << " nodes, got " << mask;
  return success();
}

OpFoldResult TreeMaskOp::fold(FoldAdaptor) {
  std::optional<ArrayRef<int32_t>> parents = getKnownParents(getTree());
  if (!parents)
    return {};
  size_t n = parents->size();
  SmallVector<bool> mask(n * n, false);
  for (size_t i = 0; i < n; ++i)
    for (int32_t j = i; j >= 0; j = (*parents)[j])
      mask[i * n + j] = true;
  return DenseElementsAttr::get(cast<ShapedType>(getMask().getType()),
                                ArrayRef<bool>(mask));
}

LogicalResult TreeDepthsOp::verify() {
  int64_t nodes = getTree().getType().getNodes();
  int64_t size = getDepths().getType().getDimSize(0);
  if (size != nodes)
    return emitOpError("has ")
           << size << " depths but the tree has " << nodes << " nodes";
  return success();
}

OpFoldResult TreeDepthsOp::fold(FoldAdaptor) {
  std::optional<ArrayRef<int32_t>> parents = getKnownParents(getTree());
  if (!parents)
    return {};
  return DenseElementsAttr::get(getDepths().getType(),
                                ArrayRef<int32_t>(computeDepths(*parents)));
}

//===----------------------------------------------------------------------===//
// VerifyOp
//===----------------------------------------------------------------------===//

/// Checks that `path` holds one node index per level of `tree`.
static LogicalResult verifyPath(Operation *op, TreeType tree, Value path) {
  int64_t size = cast<RankedTensorType>(path.getType()).getDimSize(0);
  if (size != tree.getDepth() + 1)
    return op->emitOpError("path holds ")
           << size << " node indices but a tree of depth " << tree.getDepth()
           << " needs " << tree.getDepth() + 1;
  return success();
}

LogicalResult VerifyOp::verify() {
  TreeType tree = getTree().getType();
  auto logits = cast<RankedTensorType>(getLogits().getType());
  if (!compatible(logits.getDimSize(0), tree.getNodes()))
    return emitOpError("logits have ")
           << logits.getDimSize(0) << " rows but the tree has "
           << tree.getNodes() << " nodes";
  if (failed(verifyPath(*this, tree, getPath())))
    return failure();

  if (getRule() == VerifyRule::Greedy) {
    if (getDraftProbs())
      return emitOpError("greedy verification takes no draft probabilities");
    if (getSeed() || getTemperature())
      return emitOpError("greedy verification takes no seed or temperature");
    return success();
  }

  if (!getSeed())
    return emitOpError("rejection sampling needs a seed");
  if (std::optional<APFloat> t = getTemperature())
    if (!t->isFiniteNonZero() || t->isNegative())
      return emitOpError("temperature must be positive, got ")
             << t->convertToDouble();
  if (Value draftProbs = getDraftProbs()) {
    auto probs = cast<RankedTensorType>(draftProbs.getType());
    if (!compatible(probs.getDimSize(0), tree.getNodes() - 1))
      return emitOpError("draft probabilities have ")
             << probs.getDimSize(0) << " rows but the tree has "
             << tree.getNodes() - 1 << " candidate nodes";
    if (!compatible(probs.getDimSize(1), logits.getDimSize(1)))
      return emitOpError("draft probabilities cover ")
             << probs.getDimSize(1) << " tokens but the logits cover "
             << logits.getDimSize(1);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AcceptOp
//===----------------------------------------------------------------------===//

LogicalResult AcceptOp::verify() {
  if (failed(verifyPath(*this, getTree().getType(), getPath())))
    return failure();
  if (getCaches().size() != getUpdated().size())
    return emitOpError("has ") << getCaches().size() << " caches but "
                               << getUpdated().size() << " updated caches";
  for (auto [i, types] : llvm::enumerate(
           llvm::zip(getCaches().getTypes(), getUpdated().getTypes())))
    if (std::get<0>(types) != std::get<1>(types))
      return emitOpError("updated cache #")
             << i << " has type " << std::get<1>(types)
             << " but the cache has type " << std::get<0>(types);
  return success();
}
