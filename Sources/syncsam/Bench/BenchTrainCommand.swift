import ArgumentParser
import Foundation
import SyncNN
import SyncSAM
import SyncTensor
import SyncTrain

/// `syncsam bench train`: one training batch of the paper's recipe on a full-size SyncSAM with random weights,
/// 1 image x 5 box prompts, the paper's frozen set, BatchNorm in training mode. Times the encoder step (forward,
/// backward through the frozen ViT into the CNN branch, Adam) split into its phases, and the whole simulated batch
/// (that step + 8 decoder-only steps); reports the medians and the peak resident memory (VmHWM).
/// Reference (SPEC brief): PyTorch 2 eager fp32 on the 2-core build machine, SyncSAM-50 encoder step 1.64 s and
/// 2.4 GB, SyncSAM-34 1.35 s; target <= 1.5 s and <= 2 GB.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Time a training step and batch.")

    @Option(help: "syncsam50 or syncsam34.") var config = "syncsam50"
    @Option(help: "Timed runs of each case (after one warm-up).") var runs = 3
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    struct Result: Codable {
        let config: String
        let parameters: Int, trainable: Int
        let runs: Int, workers: Int
        let loadAverage: String
        let forwardSeconds: Double, backwardSeconds: Double, adamSeconds: Double
        /// Process CPU seconds of one encoder step (wall time x cores used when the machine is idle).
        let encoderStepCPUSeconds: Double
        /// Resident memory with the model, optimiser state and batch allocated, before any step.
        let baselineMiB: Double
        /// Resident memory after the first forward pass (the tape alive), before its backward.
        let afterForwardMiB: Double
        let encoderStep: TimingSummary
        let encoderStepPeakMiB: Double
        let fullBatch: TimingSummary
        let fullBatchPeakMiB: Double
        let referenceSeconds: Double?, targetSeconds: Double, targetMiB: Double
    }

    func run() throws {
        guard config == "syncsam50" || config == "syncsam34" else { fail("--config must be syncsam50 or syncsam34, got '\(config)'") }
        if runs < 1 { fail("--runs must be at least 1") }
        let loaded: LoadedModel
        do { loaded = try ModelFactory.random(preset: config, seed: 0) } catch { fail("\(error)") }
        guard let model = loaded.model as? SyncSAMModel else { fail("\(config) is not a SyncSAM model") }
        try FreezeMode.paper.apply(to: model)
        model.store.training = true

        var settings = TrainingConfig()
        settings.imagesPerBatch = 1
        settings.masksPerImage = 5
        settings.simulation.boxProbability = 1
        let trainer = InteractiveTrainer(model: model, dataset: DatasetIndex(name: "synthetic", root: URL(fileURLWithPath: "/"), records: []),
                                         records: [], config: settings)
        let batch = TrainingBatch.synthetic(side: model.inputSize)
        var simulator = PromptSimulator(seed: 1)
        let prompts = Prompts(batch.masks.map { PromptSet(box: simulator.box(for: $0, jitter: false)) })

        let baseline = processMemoryMiB("VmRSS")
        var afterForward = 0.0
        var phases: [(forward: Double, backward: Double, adam: Double, cpu: Double)] = []
        func encoderStep() {
            let c0 = Self.cpuSeconds()
            let t0 = DispatchTime.now().uptimeNanoseconds
            var logits = model.decode(model.embed(batch.images, trace: nil), prompts: prompts, multimaskOutput: false, trace: nil).lowResLogits
            if logits.shape[1] > 1 { logits = logits.narrowed(1, start: 0, length: 1) }
            let (loss, _) = trainer.loss(logits: logits, targets: batch.targets)
            if phases.isEmpty { afterForward = processMemoryMiB("VmRSS") }
            let t1 = DispatchTime.now().uptimeNanoseconds
            loss.backward()
            let t2 = DispatchTime.now().uptimeNanoseconds
            trainer.optimizer.step()
            model.store.zeroGrad()
            let t3 = DispatchTime.now().uptimeNanoseconds
            phases.append((Double(t1 - t0) / 1e9, Double(t2 - t1) / 1e9, Double(t3 - t2) / 1e9, Self.cpuSeconds() - c0))
        }
        let step = TimingSummary(BenchClock.samples(runs: runs, encoderStep))
        let stepPeak = peakResidentMiB()
        let full = TimingSummary(BenchClock.samples(runs: runs) { try? trainer.train(batch, epoch: 0, batch: 0) })
        let fullPeak = peakResidentMiB()
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let timed = Array(phases.dropFirst())
        let result = Result(config: config, parameters: model.store.parameterCount,
                            trainable: model.store.trainable.reduce(0) { $0 + $1.tensor.count },
                            runs: runs, workers: Parallel.workers, loadAverage: Self.loadAverage(),
                            forwardSeconds: median(timed.map(\.forward)), backwardSeconds: median(timed.map(\.backward)),
                            adamSeconds: median(timed.map(\.adam)), encoderStepCPUSeconds: median(timed.map(\.cpu)),
                            baselineMiB: baseline, afterForwardMiB: afterForward, encoderStep: step, encoderStepPeakMiB: stepPeak,
                            fullBatch: full, fullBatchPeakMiB: fullPeak,
                            referenceSeconds: config == "syncsam50" ? 1.64 : 1.35, targetSeconds: 1.5, targetMiB: 2048)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("\(config): \(result.parameters.formatted()) parameters, \(result.trainable.formatted()) trainable; 1 image x 5 boxes, BatchNorm training, \(runs) runs, \(result.workers) workers, load \(result.loadAverage)")
        print("encoder step  median \(format(step.median, 3)) s (min \(format(step.min, 3)), max \(format(step.max, 3))): forward \(format(result.forwardSeconds, 3)), backward \(format(result.backwardSeconds, 3)), Adam \(format(result.adamSeconds, 3)); \(format(result.encoderStepCPUSeconds, 2)) CPU s")
        print("memory        \(format(baseline, 0)) MiB before the first step (model, optimiser state), \(format(afterForward, 0)) MiB after its forward, peak \(format(stepPeak, 0)) MiB")
        print("full batch    median \(format(full.median, 3)) s (min \(format(full.min, 3)), max \(format(full.max, 3))) for 1 + 8 updates; peak RSS \(format(fullPeak, 0)) MiB")
        print("reference PyTorch eager fp32: \(format(result.referenceSeconds ?? 0)) s encoder step\(config == "syncsam50" ? ", 2.4 GB" : ""); target <= 1.5 s, <= 2048 MiB")
    }

    /// CPU time of the process (all threads) in seconds.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// The 1, 5 and 15 minute load averages (the build machine is shared).
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
