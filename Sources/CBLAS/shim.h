#include <cblas.h>
// glibc's mallopt for the engine's allocator settings (TensorStorage.reusesLargeBlocks); not in Swift's Glibc module.
#include <malloc.h>
