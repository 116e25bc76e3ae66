import Foundation

/// Progress of `syncsam train` on stderr: epoch, a bar, batches, the epoch's running loss and Dice, throughput
/// (images/s and s/batch over this process's batches) and the time left in the epoch and in the run. On a
/// terminal one line is redrawn in place (at most 5 times a second); otherwise (a log file) a plain line is
/// written every `logInterval` seconds. Each finished epoch leaves a summary line.
public final class TrainingProgress {
    public let totalEpochs: Int
    public let batchesPerEpoch: Int
    public let interactive: Bool
    public let logInterval: Double
    private let output: FileHandle
    private var start = DispatchTime.now().uptimeNanoseconds
    private var epochStart = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var batches = 0, images = 0, epochBatches = 0, epochImages = 0
    private var lineOpen = false

    public init(totalEpochs: Int, batchesPerEpoch: Int, interactive: Bool? = nil, logInterval: Double = 30,
                output: FileHandle = .standardError) {
        self.totalEpochs = totalEpochs
        self.batchesPerEpoch = max(batchesPerEpoch, 1)
        self.interactive = interactive ?? (isatty(output.fileDescriptor) != 0)
        self.logInterval = logInterval
        self.output = output
    }

    /// Starts the clocks (call when training starts, so that loading time is not counted as training).
    public func begin() {
        start = DispatchTime.now().uptimeNanoseconds
        epochStart = start
        batches = 0; images = 0; epochBatches = 0; epochImages = 0
    }

    /// After each batch, with the running means of the current epoch (nil before its first update).
    public func batchDone(_ e: InteractiveTrainer.BatchEnd, loss: Double?, dice: Double?) {
        batches += 1; images += e.images; epochBatches += 1; epochImages += e.images
        let now = DispatchTime.now().uptimeNanoseconds
        let last = e.batch + 1 == e.batchesInEpoch
        let interval = interactive ? 0.2 : logInterval
        guard last || Double(now &- lastDraw) / 1e9 >= interval else { return }
        lastDraw = now
        let elapsed = Double(now - start) / 1e9
        let perBatch = elapsed / Double(batches)
        let leftInEpoch = Double(e.batchesInEpoch - e.batch - 1) * perBatch
        let leftInRun = leftInEpoch + Double(max(totalEpochs - e.epoch - 1, 0) * batchesPerEpoch) * perBatch
        let done = e.batch + 1, width = 24
        let filled = min(width, done * width / max(e.batchesInEpoch, 1))
        var line = "epoch \(e.epoch + 1)/\(totalEpochs) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
        line += "\(done)/\(e.batchesInEpoch)"
        if let loss, let dice { line += String(format: "  loss %.4f  Dice %.4f", loss, dice) }
        line += String(format: "  %.2f img/s  %.2f s/batch", Double(images) / elapsed, perBatch)
        line += "  ETA epoch \(Self.duration(leftInEpoch)), run \(Self.duration(leftInRun))"
        if interactive { write("\r\u{1B}[2K" + line); lineOpen = true } else { write(line + "\n") }
    }

    /// At the end of an epoch (`epochsDone` counted from 1), with its mean loss and Dice.
    public func epochDone(_ epochsDone: Int, loss: Double?, dice: Double?) {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
        var line = "epoch \(epochsDone)/\(totalEpochs) done"
        if let loss, let dice { line += String(format: ": loss %.4f, Dice %.4f", loss, dice) }
        line += ", \(epochBatches) batches in \(Self.duration(seconds))"
        if seconds > 0 { line += String(format: " (%.2f img/s)", Double(epochImages) / seconds) }
        message(line)
        epochStart = DispatchTime.now().uptimeNanoseconds
        epochBatches = 0; epochImages = 0
    }

    /// A line of its own (ends an in-place progress line first).
    public func message(_ text: String) {
        if lineOpen { write("\n"); lineOpen = false }
        write(text + "\n")
    }

    private func write(_ s: String) { output.write(Data(s.utf8)) }

    /// `37s`, `4m12s`, `2h05m`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}
