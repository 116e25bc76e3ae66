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

/// Peak resident set size of this process in MiB (Linux `VmHWM`; 0 where unavailable).
func peakResidentMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

/// Raw BLAS sgemm rate for C[m, n] = A[m, k] B[k, n] in GFLOP/s (median of `runs`).
func sgemmGFLOPS(m: Int, n: Int, k: Int, runs: Int = 5) -> Double {
    let a = Tensor(filled: 0.5, shape: [m, k]), b = Tensor(filled: 0.25, shape: [k, n])
    let c = Tensor(zeros: [m, n])
    let t = TimingSummary(BenchClock.samples(runs: runs) {
        BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, c: c.data, ldc: n)
    })
    return 2 * Double(m) * Double(n) * Double(k) / t.median / 1e9
}

func format(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
