import Foundation

/// One training run writing into an output folder (the `syncsam train` contract):
/// - `metrics.jsonl`: one `StepRecord` per optimiser update (appended, flushed line by line);
/// - `curve.svg`: loss and Dice (`TrainingCurve`), redrawn at the end of every epoch;
/// - `last.safetensors`: the latest training checkpoint (model, optimiser, loop state, RNG, config), rewritten at
///   every checkpoint; `checkpoint_epochN.safetensors`: a copy kept after N epochs.
/// Resuming into the same folder first cuts `metrics.jsonl` back to the checkpoint's update count (updates logged
/// after the checkpoint by an interrupted process are redone), so the folder of a resumed run ends up with the
/// same log and curve as that of an uninterrupted one.
public final class TrainingRun {
    public static let metricsFile = "metrics.jsonl"
    public static let curveFile = "curve.svg"
    public static let lastCheckpointFile = "last.safetensors"
    public static func epochCheckpointFile(_ epochsDone: Int) -> String { "checkpoint_epoch\(epochsDone).safetensors" }

    public let trainer: InteractiveTrainer
    public let directory: URL
    public let modelConfigJSON: String?
    /// Title of the curve (e.g. the config name).
    public var title: String
    /// Progress display (nil: silent).
    public var progress: TrainingProgress?
    public private(set) var curve: TrainingCurve

    public var metricsURL: URL { directory.appendingPathComponent(Self.metricsFile) }
    public var curveURL: URL { directory.appendingPathComponent(Self.curveFile) }
    public var lastCheckpointURL: URL { directory.appendingPathComponent(Self.lastCheckpointFile) }

    /// Prepares `directory` for `trainer` (fresh, or restored from a checkpoint already): creates it, and keeps the
    /// first `trainer.updates` lines of an existing `metrics.jsonl`, from which the curve so far is rebuilt.
    public init(trainer: InteractiveTrainer, directory: URL, modelConfigJSON: String?, title: String = "training") throws {
        self.trainer = trainer
        self.directory = directory
        self.modelConfigJSON = modelConfigJSON
        self.title = title
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        curve = TrainingCurve(batchesPerEpoch: trainer.sampler.batchesPerEpoch)
        let metrics = directory.appendingPathComponent(Self.metricsFile)
        if FileManager.default.fileExists(atPath: metrics.path) {
            for record in try Self.keepFirstRecords(trainer.updates, of: metrics) { curve.add(record) }
        }
    }

    /// Runs the remaining epochs, or `maxBatches` batches at most, then writes `last.safetensors`.
    public func run(maxBatches: Int? = nil) throws {
        let writer = try JSONLWriter(url: metricsURL)
        let previousStep = trainer.onStep, previousBatch = trainer.onBatchEnd, previousEpoch = trainer.onEpochEnd
        defer { trainer.onStep = previousStep; trainer.onBatchEnd = previousBatch; trainer.onEpochEnd = previousEpoch }
        trainer.onStep = { [unowned self] record in
            try writer.append(record)
            curve.add(record)
            try previousStep?(record)
        }
        trainer.onBatchEnd = { [unowned self] end in
            let e = curve.epochs.indices.contains(end.epoch) && curve.epochs[end.epoch].count > 0 ? curve.epochs[end.epoch] : nil
            progress?.batchDone(end, loss: e?.loss, dice: e?.dice)
            try previousBatch?(end)
        }
        trainer.onEpochEnd = { [unowned self] epochsDone in
            let fm = FileManager.default
            let kept = directory.appendingPathComponent(Self.epochCheckpointFile(epochsDone))
            if fm.fileExists(atPath: kept.path) { try fm.removeItem(at: kept) }
            try fm.copyItem(at: lastCheckpointURL, to: kept)
            try TrainingCurveSVG.write(curve, title: title, totalEpochs: trainer.config.epochs, to: curveURL)
            let e = curve.epochs.indices.contains(epochsDone - 1) ? curve.epochs[epochsDone - 1] : nil
            progress?.epochDone(epochsDone, loss: e?.loss, dice: e?.dice)
            try previousEpoch?(epochsDone)
        }
        progress?.begin()
        try trainer.run(checkpoint: lastCheckpointURL, modelConfigJSON: modelConfigJSON, stopAfterBatches: maxBatches)
    }

    /// Decodes the first `count` lines of a JSONL step log (fewer if it has fewer) and truncates the file after them.
    static func keepFirstRecords(_ count: Int, of url: URL) throws -> [StepRecord] {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        let decoder = JSONDecoder()
        var records: [StepRecord] = [], pending = Data(), offset: UInt64 = 0
        reading: while records.count < count, let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
            pending.append(chunk)
            while records.count < count, let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                do { records.append(try decoder.decode(StepRecord.self, from: line)) } catch {
                    throw DatasetError.badIndex(file: url.path, reason: "line \(records.count + 1) is not a step record (\(error))")
                }
                offset += UInt64(line.count + 1)
                pending = pending[(newline + 1)...]
                if records.count == count { break reading }
            }
        }
        // Drops the lines past `count`, or a partial last line left by a process killed while writing it.
        if try handle.seekToEnd() > offset { try handle.truncate(atOffset: offset) }
        return records
    }
}
