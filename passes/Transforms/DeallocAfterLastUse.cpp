//===- DeallocAfterLastUse.cpp - free buffers once nothing reads them -----===//
//
// The ownership-based deallocation of MLIR frees each buffer at the end of
// the block that allocated it. For a model's forward function that is the
// end of the whole forward: every intermediate of every layer stays
// allocated until then, so each one takes fresh pages from the kernel (page
// faults, and a footprint of the sum of all intermediates). Here an
// unconditional memref.dealloc of a memref.alloc of the same block moves up
// to just after the last op of the block that uses the buffer or a view of
// it, so that malloc can hand the memory to the next layer.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace kvant {
#define GEN_PASS_DEF_DEALLOCAFTERLASTUSEPASS
#include "passes/Transforms/Passes.h.inc"
} // namespace kvant

using namespace mlir;

namespace {

/// Whether `call` only uses its memref operands while it runs: it calls a
/// private function of the module, with a body (kvant's outlined matmuls),
/// that returns no memref. Other callees may keep a buffer or return it.
static bool isPlainUse(func::CallOp call) {
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      call, call.getCalleeAttr());
  return callee && callee.isPrivate() && !callee.isExternal() &&
         llvm::none_of(call.getResultTypes(),
                       [](Type t) { return isa<BaseMemRefType>(t); });
}

/// The last op of `block` that uses `alloc` or a memref derived from it, or
/// nullptr when the buffer may be reached some other way than through those
/// uses (a view the pass does not know, a pointer taken as an integer, a
/// call that may keep it, a terminator that yields or returns it), when the
/// dealloc must stay where it is.
static Operation *lastUser(Value alloc, Block *block, Operation *dealloc) {
  SmallVector<Value> aliases = {alloc};
  Operation *last = nullptr;
  while (!aliases.empty()) {
    Value value = aliases.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (user == dealloc)
        continue;
      // Memrefs made from the buffer are the buffer: follow them. Only
      // views are known to do no more than that.
      bool derivesMemRef = llvm::any_of(user->getResultTypes(), [](Type t) {
        return isa<BaseMemRefType>(t);
      });
      if (derivesMemRef) {
        auto view = dyn_cast<ViewLikeOpInterface>(user);
        bool isView = (view && view.getViewSource() == value) ||
                      isa<memref::ExtractStridedMetadataOp>(user);
        if (!isView)
          return nullptr;
        for (Value result : user->getResults())
          if (isa<BaseMemRefType>(result.getType()))
            aliases.push_back(result);
      }
      // A terminator may hand the buffer to its parent's results (scf.yield
      // out of an scf.if) or to the caller.
      if (user->hasTrait<OpTrait::IsTerminator>() ||
          isa<memref::ExtractAlignedPointerAsIndexOp, memref::DeallocOp>(user))
        return nullptr;
      if (auto call = dyn_cast<func::CallOp>(user))
        if (!isPlainUse(call))
          return nullptr;
      // The use's ancestor in the block; a use outside it (none arise for a
      // buffer of the block) keeps the dealloc where it is.
      Operation *inBlock = block->findAncestorOpInBlock(*user);
      if (!inBlock)
        return nullptr;
      if (!last || last->isBeforeInBlock(inBlock))
        last = inBlock;
    }
  }
  return last;
}

struct DeallocAfterLastUsePass
    : public kvant::impl::DeallocAfterLastUsePassBase<DeallocAfterLastUsePass> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation()->walk([&](memref::DeallocOp op) { deallocs.push_back(op); });
    for (memref::DeallocOp dealloc : deallocs) {
      auto alloc = dealloc.getMemref().getDefiningOp<memref::AllocOp>();
      Block *block = dealloc->getBlock();
      if (!alloc || alloc->getBlock() != block)
        continue;
      Operation *last = lastUser(alloc, block, dealloc);
      if (last && last->isBeforeInBlock(dealloc))
        dealloc->moveAfter(last);
    }
  }
};

} // namespace
