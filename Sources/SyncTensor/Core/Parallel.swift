import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Splits loops over both cores (or all of them) in contiguous chunks: the closure runs once per chunk,
/// never per element, so hot loops inside stay tight.
public enum Parallel {
    /// Worker count: `SYNCSAM_THREADS` if set, else the active processor count.
    public static let workers: Int = {
        if let s = ProcessInfo.processInfo.environment["SYNCSAM_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` over disjoint sub-ranges of `0..<count`. Runs inline when the work is small
    /// (`count * costPerItem` below ~32k operations) or only one worker exists.
    @inlinable
    public static func forRange(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let work = count &* max(costPerItem, 1)
        let chunks = min(workers, count, max(1, work / 32_768))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        // Never nested: a region inside a worker runs inline, and BLAS calls inside a region are single-threaded
        // (OpenBLAS's own threads would otherwise spin in `exec_blas_async` waiting for each other).
        if ParallelRegion.isInside {
            body(0..<count)
            return
        }
        BLAS.enterSingleThreadedRegion()
        defer { BLAS.exitSingleThreadedRegion() }
        withoutActuallyEscaping(body) { escaping in
            // Chunks touch disjoint ranges; the kernels' pointers are safe to share across the workers.
            let box = UncheckedSendableBox(escaping)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks
                let hi = count * (c + 1) / chunks
                if lo < hi {
                    ParallelRegion.setInside(true)
                    box.value(lo..<hi)
                    ParallelRegion.setInside(false)
                }
            }
        }
    }
}

/// Marks the threads currently running a `Parallel.forRange` chunk (thread-local), so nested regions run inline.
@usableFromInline enum ParallelRegion {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    @usableFromInline static var isInside: Bool { pthread_getspecific(key) != nil }

    @usableFromInline static func setInside(_ inside: Bool) {
        pthread_setspecific(key, inside ? UnsafeRawPointer(bitPattern: 1) : nil)
    }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees race freedom (disjoint writes).
public struct UncheckedSendableBox<T>: @unchecked Sendable {
    public let value: T
    @inlinable public init(_ value: T) { self.value = value }
}
