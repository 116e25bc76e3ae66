import Foundation

/// Loss and Dice of a run for plotting: per-update values averaged into at most `maxBins` consecutive bins
/// (a bin doubles in size whenever there would be more, so memory stays bounded for any run length), and the
/// mean of every epoch. Fed in update order; the same sequence always gives the same curve.
public struct TrainingCurve: Sendable, Equatable {
    /// Mean of consecutive updates; `x` in epochs (epoch + batch / batches per epoch).
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var loss: Double
        public var dice: Double
        public var count: Int
    }

    public let batchesPerEpoch: Int
    public let maxBins: Int
    public private(set) var bins: [Point] = []
    /// Updates per full bin.
    public private(set) var binSize = 1
    /// Mean loss / Dice of each epoch seen (index = epoch, 0-based), the running one included.
    public private(set) var epochs: [Point] = []
    private var open: Point?

    public init(batchesPerEpoch: Int, maxBins: Int = 1000) {
        self.batchesPerEpoch = max(batchesPerEpoch, 1)
        self.maxBins = max(maxBins, 2)
    }

    /// Adds one update. Dice is the soft Dice score, 1 - the Dice loss term.
    public mutating func add(_ r: StepRecord) {
        let x = Double(r.epoch) + (Double(r.batch) + 0.5) / Double(batchesPerEpoch)
        let dice = 1 - r.dice
        while epochs.count <= r.epoch { epochs.append(Point(x: Double(epochs.count) + 0.5, loss: 0, dice: 0, count: 0)) }
        Self.accumulate(&epochs[r.epoch], x: nil, loss: r.loss, dice: dice)
        var bin = open ?? Point(x: 0, loss: 0, dice: 0, count: 0)
        Self.accumulate(&bin, x: x, loss: r.loss, dice: dice)
        if bin.count == binSize {
            bins.append(bin)
            open = nil
            if bins.count > maxBins { halve() }
        } else {
            open = bin
        }
    }

    /// The bins with the partly filled last one.
    public var points: [Point] { bins + (open.map { [$0] } ?? []) }

    public var updates: Int { epochs.reduce(0) { $0 + $1.count } }

    private static func accumulate(_ p: inout Point, x: Double?, loss: Double, dice: Double) {
        let n = Double(p.count)
        if let x { p.x = (p.x * n + x) / (n + 1) }
        p.loss = (p.loss * n + loss) / (n + 1)
        p.dice = (p.dice * n + dice) / (n + 1)
        p.count += 1
    }

    private mutating func halve() {
        var merged: [Point] = []
        for i in stride(from: 0, to: bins.count - 1, by: 2) {
            let a = bins[i], b = bins[i + 1], n = Double(a.count + b.count)
            merged.append(Point(x: (a.x * Double(a.count) + b.x * Double(b.count)) / n,
                                loss: (a.loss * Double(a.count) + b.loss * Double(b.count)) / n,
                                dice: (a.dice * Double(a.count) + b.dice * Double(b.count)) / n, count: a.count + b.count))
        }
        binSize *= 2
        if bins.count % 2 == 1 { open = bins.last }  // a lone half-size bin keeps filling to the new size
        bins = merged
    }
}
