import ArgumentParser
import Foundation
import SyncSAM
import SyncTensor

/// Result line of the model benchmarks (`--json` prints exactly these keys).
struct ModelBenchResult: Codable {
    let seconds_median: Double, seconds_min: Double, seconds_max: Double
    let gflops: Double, sgemm_gflops: Double, peak_rss_mb: Double

    init(samples: [Double], flops: Int64, sgemm: Double) {
        let t = TimingSummary(samples)
        seconds_median = t.median; seconds_min = t.min; seconds_max = t.max
        gflops = Double(flops) / t.median / 1e9
        sgemm_gflops = sgemm
        peak_rss_mb = peakResidentMiB()
    }

    func printed(_ label: String, json: Bool) {
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(String(decoding: try! enc.encode(self), as: UTF8.self))
        } else {
            print("\(label): median \(format(seconds_median * 1000, 1)) ms (min \(format(seconds_min * 1000, 1)), max \(format(seconds_max * 1000, 1))), \(format(gflops, 1)) GFLOP/s = \(format(100 * gflops / sgemm_gflops, 0)) % of sgemm \(format(sgemm_gflops, 1)) GFLOP/s, peak RSS \(format(peak_rss_mb, 0)) MiB")
        }
    }
}

/// Raw sgemm rates of this run: 2048^3 and the ViT-B token shapes (256 x 768 -> 2304 / 3072, 3072 -> 768).
func sameRunSgemm(verbose: Bool) -> Double {
    let big = sgemmGFLOPS(m: 2048, n: 2048, k: 2048, runs: 3)
    let vit = [(256, 2304, 768), (256, 3072, 768), (256, 768, 3072)].map { sgemmGFLOPS(m: $0.0, n: $0.1, k: $0.2, transB: true, runs: 9) }
    if verbose {
        print("sgemm: 2048^3 \(format(big, 1)) GFLOP/s; ViT shapes \(vit.map { format($0, 1) }.joined(separator: " / ")) GFLOP/s (\(Parallel.workers) workers)")
    }
    return big
}

struct ModelBenchOptions: ParsableArguments {
    @Option(help: "Model preset (\(ModelFactory.presetNames.joined(separator: ", "))).") var config = "syncsam50"
    @Option(help: "Images per batch.") var batch = 1
    @Option(help: "Timed runs after one warm-up (at least 5).") var runs = 5
    @Flag(help: "Print one JSON object per measurement.") var json = false
}

extension ModelBenchOptions {
    /// The preset with seeded random weights and `batch` random input images at its input size.
    func randomModelAndImages(batch: Int) -> (any PromptableSegmenter, Tensor) {
        let loaded: LoadedModel
        do { loaded = try ModelFactory.random(preset: config, seed: 1) } catch { fail("\(error)") }
        var rng = SeededRandom(seed: 2)
        let s = loaded.model.inputSize
        return (loaded.model, Tensor.randomNormal([batch, 3, s, s], using: &rng))
    }
}

/// `syncsam bench encoder`: everything the image side computes (encoder, neck, multi-scale features) at the
/// model's input size with random weights.
struct BenchEncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encoder", abstract: "Image-side forward time and rate.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let (model, images) = options.randomModelAndImages(batch: options.batch)
        let sgemm = sameRunSgemm(verbose: !options.json)
        let flops = FLOPCounter.measure { _ = withNoGrad { model.embed(images, trace: nil) } }
        let samples = BenchClock.samples(warmup: 1, runs: max(options.runs, 5)) { _ = withNoGrad { model.embed(images, trace: nil) } }
        ModelBenchResult(samples: samples, flops: flops, sgemm: sgemm)
            .printed("\(options.config) image side, batch \(options.batch), \(format(Double(flops) / 1e9, 1)) GEMM GFLOP", json: options.json)
    }
}

/// `syncsam bench decoder`: prompt encoder + decoder for 1 and 5 boxes with the image side cached.
struct BenchDecoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decoder", abstract: "Per-prompt decode time with a cached embedding.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let (model, images) = options.randomModelAndImages(batch: 1)
        let embedding = withNoGrad { model.embed(images, trace: nil) }
        let sgemm = sameRunSgemm(verbose: !options.json)
        for boxes in [1, 5] {
            let s = Float(model.inputSize)
            var values = [Float]()
            for i in 0..<boxes { let o = Float(i) * s / 16; values += [s / 8 + o, s / 8 + o, s / 2 + o, s / 2 + o] }
            let prompts = Prompts(boxes: Tensor(shape: [boxes, 4], values: values))
            let decode = { _ = withNoGrad { model.decode(embedding, prompts: prompts, multimaskOutput: false, trace: nil) } }
            let flops = FLOPCounter.measure(decode)
            let samples = BenchClock.samples(warmup: 2, runs: max(options.runs, 5) * 4, decode)
            ModelBenchResult(samples: samples, flops: flops, sgemm: sgemm)
                .printed("\(options.config) decoder, \(boxes) box\(boxes > 1 ? "es" : "") (\(format(TimingSummary(samples).median * 1000 / Double(boxes), 2)) ms per box)", json: options.json)
        }
    }
}
