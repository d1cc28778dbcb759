//===- InitAllPasses.h - register kvant's passes and pipelines --*- C++ -*-===//

#ifndef KVANT_INITALLPASSES_H
#define KVANT_INITALLPASSES_H

namespace kvant {
/// Registers every kvant pass and named pipeline with the global registry.
void registerAllPasses();
} // namespace kvant

#endif // KVANT_INITALLPASSES_H
