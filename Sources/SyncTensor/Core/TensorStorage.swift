/// Owned, 64-byte aligned Float32 buffer shared by a tensor and its cheap views (reshape, leading-dim slices).
///
/// Storage is a reference type so that optimisers can update parameters in place and views see the update.
/// The CPU backend is the only one today; a CUDA backend would add a device pointer beside `base` (see `Device`).
public final class TensorStorage: @unchecked Sendable {
    /// First element of the buffer.
    public let base: UnsafeMutablePointer<Float>
    /// Number of Float32 elements.
    public let count: Int

    /// Allocates `count` elements, zero-filled when `zeroed` is true.
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "negative storage size")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { base.initialize(repeating: 0, count: count) }
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
