import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// Row-major single-precision GEMM through the platform BLAS (OpenBLAS on Linux, Accelerate on Apple):
/// `C = alpha * op(A) * op(B) + beta * C` with op(A) M x K, op(B) K x N, C M x N.
public enum BLAS {
    @inlinable
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            else if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            return
        }
        FLOPCounter.add(m: m, n: n, k: k)
        if splitsOwnGEMMs && m * n * k >= 1 << 21 && !ParallelRegion.isInside {
            split(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }

    /// Whether GEMMs of at least 2^21 multiply-adds are cut into slabs over the `Parallel` workers with OpenBLAS
    /// itself single-threaded (the default: its helper threads spin and yield on a loaded machine, and nested
    /// calls from workers contend for them). `SYNCSAM_BLAS_SPLIT=0` leaves threading to OpenBLAS.
    @usableFromInline static let splitsOwnGEMMs: Bool = {
        #if canImport(Accelerate)
        return false
        #else
        let on = ProcessInfo.processInfo.environment["SYNCSAM_BLAS_SPLIT"] != "0"
        if on { openblas_set_num_threads(1) }
        return on
        #endif
    }()

    /// One GEMM as independent slabs of C over the workers: the larger of M and N is cut, so each worker packs
    /// its own slab of that operand and only the smaller operand is packed twice.
    @usableFromInline static func split(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let parts = Parallel.workers
        let cutM = m >= n
        let total = cutM ? m : n
        Parallel.forRange(parts, costPerItem: 1 << 20) { range in
            for p in range {
                // Slab bounds rounded to 32 so the kernels' full-width tiles line up.
                let lo = Swift.min(total, (total * p / parts + 31) / 32 * 32)
                let hi = p == parts - 1 ? total : Swift.min(total, (total * (p + 1) / parts + 31) / 32 * 32)
                if lo >= hi { continue }
                if cutM {
                    let ap = transA ? a + lo : a + lo * lda
                    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                                blasInt(hi - lo), blasInt(n), blasInt(k), alpha, ap, blasInt(lda), b, blasInt(ldb),
                                beta, c + lo * ldc, blasInt(ldc))
                } else {
                    let bp = transB ? b + lo * ldb : b + lo
                    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                                blasInt(m), blasInt(hi - lo), blasInt(k), alpha, a, blasInt(lda), bp, blasInt(ldb),
                                beta, c + lo, blasInt(ldc))
                }
            }
        }
    }

    #if canImport(Accelerate)
    @usableFromInline static func blasInt(_ v: Int) -> Int32 { Int32(v) }
    #else
    @usableFromInline static func blasInt(_ v: Int) -> Int32 { Int32(v) }
    #endif
}

/// OpenBLAS's thread count around `Parallel` regions: a GEMM called from a worker chunk runs on that worker's
/// core alone (the region already uses every core), and BLAS gets its threads back when the last region ends.
extension BLAS {
    @usableFromInline static let regions = RegionCounter()

    /// Called by `Parallel.forRange` before its workers start.
    @usableFromInline static func enterSingleThreadedRegion() { regions.enter() }

    /// Called by `Parallel.forRange` after its workers joined.
    @usableFromInline static func exitSingleThreadedRegion() { regions.exit() }

    /// Counts the open regions of all threads; the first sets BLAS to one thread, the last restores the default.
    @usableFromInline final class RegionCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var open = 0
        #if canImport(Accelerate)
        private let defaultThreads = 1
        private func setThreads(_ n: Int) {}
        #else
        private let defaultThreads = BLAS.splitsOwnGEMMs ? 1 : Int(openblas_get_num_threads())
        private func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
        #endif

        func enter() {
            lock.lock()
            if open == 0 && defaultThreads > 1 { setThreads(1) }
            open += 1
            lock.unlock()
        }

        func exit() {
            lock.lock()
            open -= 1
            if open == 0 && defaultThreads > 1 { setThreads(defaultThreads) }
            lock.unlock()
        }
    }
}
