#if canImport(Glibc)
import Glibc
import CBLAS
#elseif canImport(Darwin)
import Darwin
#endif

/// Owned, 64-byte aligned Float32 buffer shared by a tensor and its cheap views (reshape, leading-dim slices).
///
/// Storage is a reference type so that optimisers can update parameters in place and views see the update.
/// The CPU backend is the only one today; a CUDA backend would add a device pointer beside `base` (see `Device`).
///
/// Zeroed storage comes from `calloc`: large blocks are fresh kernel pages that only become resident when first
/// written, so a model built before a checkpoint is copied into it costs no memory for values it never keeps.
public final class TensorStorage: @unchecked Sendable {
    /// First element of the buffer (64-byte aligned).
    public let base: UnsafeMutablePointer<Float>
    /// Number of Float32 elements.
    public let count: Int
    /// The pointer returned by the allocator (`base` rounded up from it for zeroed storage).
    private let block: UnsafeMutableRawPointer

    static let alignment = 64

    /// glibc serves blocks above its mmap threshold (128 KiB, raised dynamically to at most 32 MiB) with fresh
    /// mappings: every large activation of every forward pass then page-faults and is zeroed by the kernel again
    /// (LiteMedSAM's 64 MiB stage-1 maps: ~15 % of its encoder time). Set once before the first tensor:
    /// blocks up to 1 GiB come from the heap and freed ones are reused (no trim below 1 GiB of free top).
    static let reusesLargeBlocks: Bool = {
        #if canImport(Glibc)
        return mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
        #else
        return false
        #endif
    }()

    /// Allocates `count` elements, zero-filled when `zeroed` is true (else uninitialised: the caller writes them).
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "negative storage size")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let a = TensorStorage.alignment
        _ = TensorStorage.reusesLargeBlocks
        if zeroed {
            // calloc has no aligned variant: over-allocate and round up.
            guard let raw = calloc(bytes + a, 1) else { fatalError("out of memory allocating \(bytes) bytes") }
            block = raw
            let misalignment = Int(bitPattern: raw) & (a - 1)
            base = (raw + (misalignment == 0 ? 0 : a - misalignment)).bindMemory(to: Float.self, capacity: max(count, 1))
        } else {
            var raw: UnsafeMutableRawPointer?
            guard posix_memalign(&raw, a, bytes) == 0, let raw else {
                fatalError("out of memory allocating \(bytes) bytes")
            }
            block = raw
            base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        }
    }

    deinit { free(block) }
}
