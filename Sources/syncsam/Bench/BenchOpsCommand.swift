import ArgumentParser
import Foundation
import SyncTensor

/// `syncsam bench ops`: the engine's GEMM-shaped ops at the ViT-B/256 and ResNet-50 shapes against the raw
/// sgemm rate of the same shapes measured in the same run, and memory traffic of elementwise ops.
struct BenchOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ops", abstract: "Engine kernels vs raw BLAS sgemm.")

    @Option(help: "Timed runs per case at least (after one warm-up); short cases repeat for 0.5 s.") var runs = 10
    @Flag(help: "Rate from the median run instead of the fastest (the fastest is least disturbed by other load).")
    var median = false
    @Flag(help: "Print JSON lines instead of a table.") var json = false

    struct Row: Codable {
        let op: String, shape: String
        let seconds: Double, gflops: Double, sgemmGflops: Double, ratio: Double
    }

    func run() throws {
        withNoGrad { runAll() }
    }

    private func runAll() {
        var rows: [Row] = []
        func pick(_ t: TimingSummary) -> Double { median ? t.median : t.min }
        // Each case runs interleaved with the raw sgemm calls it is built on (same shapes, transposes and
        // batch count), so the ratio compares like with like under the same machine load.
        func record(_ op: String, _ shape: String, flops: Double, m: Int, n: Int, k: Int, batch: Int = 1,
                    transB: Bool = false, _ body: () -> Void) {
            let raw = RawSgemm(m: m, n: n, k: k, batch: batch, transB: transB)
            let (ts, rs) = interleavedSamples(runs: runs, body) { raw.run() }
            let t = pick(TimingSummary(ts)), r = pick(TimingSummary(rs))
            let g = flops / t / 1e9, rawG = raw.flops / r / 1e9
            rows.append(Row(op: op, shape: shape, seconds: t, gflops: g, sgemmGflops: rawG, ratio: g / rawG))
        }
        // Measured first: it also warms the BLAS thread pool and the allocator before the first case.
        let big = sgemmGFLOPS(m: 2048, n: 2048, k: 2048, runs: 3)
        var rng = SeededRandom(seed: 1)
        // ViT-B at 256 input: 256 tokens, 768 wide.
        let x = Tensor.randomNormal([256, 768], using: &rng)
        for (inF, outF) in [(768, 2304), (768, 3072), (3072, 768)] {
            let xi = inF == 768 ? x : Tensor.randomNormal([256, inF], using: &rng)
            let w = Tensor.randomNormal([outF, inF], std: 0.02, using: &rng), b = Tensor(zeros: [outF])
            record("linear", "256x\(inF)->\(outF)", flops: 2 * 256 * Double(inF * outF), m: 256, n: outF, k: inF, transB: true) {
                _ = xi.linear(weight: w, bias: b)
            }
        }
        // Attention scores and weighted sums: 12 heads, 64-d, 196 (window) and 256 (global) tokens.
        for tokens in [196, 256] {
            let q = Tensor.randomNormal([12, tokens, 64], using: &rng), k = Tensor.randomNormal([12, tokens, 64], using: &rng)
            record("attn q.kT", "12x\(tokens)x64", flops: 2 * 12 * Double(tokens * tokens * 64), m: tokens, n: tokens, k: 64, batch: 12, transB: true) {
                _ = q.matmul(k, transposeOther: true)
            }
            let p = Tensor.randomNormal([12, tokens, tokens], using: &rng)
            record("attn p.v", "12x\(tokens)x\(tokens)", flops: 2 * 12 * Double(tokens * tokens * 64), m: tokens, n: 64, k: tokens, batch: 12) {
                _ = p.matmul(q)
            }
        }
        // ResNet-50 convolutions at 64x64 (layer1) and 32x32 (layer2).
        let convs: [(c: Int, o: Int, k: Int, hw: Int)] = [(64, 64, 3, 64), (64, 256, 1, 64), (256, 64, 1, 64), (128, 128, 3, 32), (512, 128, 1, 32)]
        for cv in convs {
            let inp = Tensor.randomNormal([1, cv.c, cv.hw, cv.hw], using: &rng)
            let w = Tensor.randomNormal([cv.o, cv.c, cv.k, cv.k], std: 0.05, using: &rng)
            let flops = 2 * Double(cv.o * cv.c * cv.k * cv.k * cv.hw * cv.hw)
            record("conv\(cv.k)x\(cv.k)", "\(cv.c)->\(cv.o)@\(cv.hw)", flops: flops, m: cv.o, n: cv.hw * cv.hw, k: cv.c * cv.k * cv.k) {
                _ = inp.conv2d(weight: w, bias: nil, padding: cv.k / 2)
            }
        }
        // Memory-bound elementwise ops: bytes read + written per second.
        let e = Tensor.randomNormal([256 * 3072], using: &rng), f = Tensor.randomNormal([256 * 3072], using: &rng)
        var traffic: [(String, Double)] = []
        let bias = Tensor.randomNormal([3072], using: &rng), lnW = Tensor.randomNormal([768], using: &rng)
        let cases: [(String, Double, () -> Void)] = [
            ("add", 12.0, { _ = e + f }),
            ("bias_add", 8.0, { _ = e.reshaped([256, 3072]) + bias }),
            ("gelu", 8.0, { _ = e.gelu() }),
            ("softmax", 8.0, { _ = e.reshaped([-1, 256]).softmax() }),
            ("layer_norm", 8.0, { _ = e.reshaped([-1, 768]).layerNorm(weight: lnW, bias: lnW, eps: 1e-6) }),
            ("layer_norm2d", 8.0, { _ = e.reshaped([1, 192, 64, 64]).layerNorm2d(weight: nil, bias: nil) }),
            // Bias gradient of a linear layer: [tokens, out] summed over tokens.
            ("sum_dim0", 4.0, { _ = e.reshaped([256, 3072]).sum(dims: [0]) }),
            // Attention head split: [B, tokens, heads, 64] -> [B, heads, tokens, 64].
            ("permute", 8.0, { _ = e.reshaped([16, 64, 12, 64]).permuted([0, 2, 1, 3]) }),
        ]
        for (name, bytesPerElem, body) in cases {
            let t = TimingSummary(BenchClock.samples(runs: max(runs, 20), body))
            traffic.append((name, bytesPerElem * Double(e.count) / pick(t) / 1e9))
        }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            for r in rows { print(String(decoding: try! enc.encode(r), as: UTF8.self)) }
            print("{\"sgemm_2048_gflops\": \(format(big))}")
            for (n, gbs) in traffic { print("{\"op\": \"\(n)\", \"gb_per_s\": \(format(gbs))}") }
            return
        }
        print("op          shape                 ms      GFLOP/s  sgemm GFLOP/s  ratio   (\(median ? "median" : "fastest") run)")
        for r in rows {
            print("\(r.op.padding(toLength: 11, withPad: " ", startingAt: 0)) \(r.shape.padding(toLength: 20, withPad: " ", startingAt: 0)) \(format(r.seconds * 1000, 3).leftPad(8)) \(format(r.gflops, 1).leftPad(10)) \(format(r.sgemmGflops, 1).leftPad(13)) \(format(r.ratio * 100, 0).leftPad(5))%")
        }
        print("raw sgemm 2048^3: \(format(big, 1)) GFLOP/s (\(Parallel.workers) workers)")
        for (n, gbs) in traffic { print("\(n.padding(toLength: 13, withPad: " ", startingAt: 0)) \(format(gbs, 2)) GB/s") }
        print("peak RSS: \(format(peakResidentMiB(), 1)) MiB")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
