import Foundation
import SyncTensor

/// Timing and memory helpers shared by the `bench` subcommands.
enum BenchClock {
    /// Seconds elapsed running `body`.
    static func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// Runs `body` `warmup` times, then `runs` times, and returns the sorted durations.
    static func samples(warmup: Int = 1, runs: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return (0..<runs).map { _ in seconds(body) }.sorted()
    }
}

/// Median, min and max of sorted samples.
struct TimingSummary: Codable {
    let median: Double, min: Double, max: Double
    init(_ sorted: [Double]) {
        median = sorted[sorted.count / 2]
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}

/// A memory field of `/proc/self/status` (`VmRSS`, `VmHWM`) in MiB; 0 where unavailable (non-Linux).
func processMemoryMiB(_ field: String) -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix(field + ":") {
        return (line.split(separator: " ").compactMap { Double($0) }.first ?? 0) / 1024
    }
    return 0
}

/// Peak resident set size of this process in MiB.
func peakResidentMiB() -> Double { processMemoryMiB("VmHWM") }

/// Current resident set size of this process in MiB.
func currentResidentMiB() -> Double { processMemoryMiB("VmRSS") }

/// Raw BLAS sgemm rate for C[m, n] = op(A) op(B) with op(A) m x k, op(B) k x n, in GFLOP/s (median of `runs`).
func sgemmGFLOPS(m: Int, n: Int, k: Int, transB: Bool = false, runs: Int = 5) -> Double {
    let raw = RawSgemm(m: m, n: n, k: k, transB: transB)
    let t = TimingSummary(BenchClock.samples(runs: runs) { raw.run() })
    return raw.flops / t.median / 1e9
}

/// `batch` back-to-back BLAS sgemm calls of one shape on preallocated operands: the reference an engine op
/// of the same shape (and the same transposes) is compared against.
struct RawSgemm {
    let m: Int, n: Int, k: Int, batch: Int, transB: Bool
    let a: Tensor, b: Tensor, c: Tensor
    init(m: Int, n: Int, k: Int, batch: Int = 1, transB: Bool = false) {
        self.m = m; self.n = n; self.k = k; self.batch = batch; self.transB = transB
        a = Tensor(filled: 0.5, shape: [batch, m, k]); b = Tensor(filled: 0.25, shape: [batch, k, n])
        c = Tensor(zeros: [batch, m, n])
    }
    var flops: Double { 2 * Double(batch) * Double(m) * Double(n) * Double(k) }
    func run() {
        for i in 0..<batch {
            BLAS.sgemm(transA: false, transB: transB, m: m, n: n, k: k, a: a.data + i * m * k, lda: k,
                       b: b.data + i * k * n, ldb: transB ? k : n, c: c.data + i * m * n, ldc: n)
        }
    }
}

/// Times `op` and `reference` alternately (one warm-up each), so that load from other processes on a shared
/// machine hits both alike: at least `runs` pairs and, for short cases, more until `minSeconds` have passed
/// (at most 500 pairs). Returns the two sorted sample lists.
func interleavedSamples(runs: Int, minSeconds: Double = 0.5, _ op: () -> Void,
                        _ reference: () -> Void) -> (op: [Double], reference: [Double]) {
    op(); reference()
    var a: [Double] = [], b: [Double] = []
    var total = 0.0
    while a.count < runs || (total < minSeconds && a.count < 500) {
        a.append(BenchClock.seconds(op))
        b.append(BenchClock.seconds(reference))
        total += a[a.count - 1] + b[b.count - 1]
    }
    return (a.sorted(), b.sorted())
}

func format(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
