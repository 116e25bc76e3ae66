#if canImport(Glibc)
import Glibc
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

    /// Allocates `count` elements, zero-filled when `zeroed` is true (else uninitialised: the caller writes them).
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "negative storage size")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let a = TensorStorage.alignment
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
