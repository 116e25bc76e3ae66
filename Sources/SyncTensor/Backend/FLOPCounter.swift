import Foundation

/// Counts the floating-point operations of the GEMM-shaped work (every `BLAS.sgemm`: 2 m n k) while a
/// measurement is active, so benchmarks report the FLOPs the engine actually ran (padding skipped, fused
/// paths included) rather than a textbook estimate. Elementwise work is not counted.
public enum FLOPCounter {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var active = false
    nonisolated(unsafe) private static var total: Int64 = 0

    /// Runs `body` and returns the GEMM FLOPs it executed (not re-entrant).
    public static func measure(_ body: () -> Void) -> Int64 {
        lock.lock(); active = true; total = 0; lock.unlock()
        body()
        lock.lock(); active = false; let n = total; lock.unlock()
        return n
    }

    @usableFromInline static func add(m: Int, n: Int, k: Int) {
        lock.lock()
        if active { total += 2 * Int64(m) * Int64(n) * Int64(k) }
        lock.unlock()
    }
}
