import Foundation
import SyncTensor

/// A train/test partition of image ids, saved next to results so every run uses the same one (SPEC 8.1, 9 #14).
public struct DatasetSplit: Codable, Sendable, Equatable {
    public enum Unit: String, Codable, Sendable { case official, image, byCase }
    public var unit: Unit
    public var seed: UInt64?
    public var testFraction: Double?
    public var train: [String]
    public var test: [String]

    public init(unit: Unit, seed: UInt64? = nil, testFraction: Double? = nil, train: [String], test: [String]) {
        self.unit = unit; self.seed = seed; self.testFraction = testFraction; self.train = train; self.test = test
    }

    /// Seeded image-level split: a shuffle of the sorted ids, the first round(n * testFraction) to test
    /// (the paper's random 80/20).
    public static func byImage(_ records: [ImageRecord], testFraction: Double = 0.2, seed: UInt64) -> DatasetSplit {
        let (train, test) = partition(records.map(\.id).sorted(), testFraction: testFraction, seed: seed)
        return DatasetSplit(unit: .image, seed: seed, testFraction: testFraction, train: train.sorted(), test: test.sorted())
    }

    /// Seeded split of whole cases (`ImageRecord.caseKey`, i.e. whole volumes): neighbouring slices of one volume
    /// never straddle train and test. The fraction applies to cases.
    public static func byCase(_ records: [ImageRecord], testFraction: Double = 0.2, seed: UInt64) -> DatasetSplit {
        let byCase = Dictionary(grouping: records, by: \.caseKey)
        let (trainCases, testCases) = partition(byCase.keys.sorted(), testFraction: testFraction, seed: seed)
        let ids = { (cases: [String]) in cases.flatMap { byCase[$0]!.map(\.id) }.sorted() }
        return DatasetSplit(unit: .byCase, seed: seed, testFraction: testFraction, train: ids(trainCases), test: ids(testCases))
    }

    static func partition(_ keys: [String], testFraction: Double, seed: UInt64) -> (train: [String], test: [String]) {
        var rng = SeededRandom(seed: seed)
        var shuffled = keys
        shuffled.shuffle(using: &rng)
        let nTest = min(keys.count, Int((Double(keys.count) * testFraction).rounded()))
        return (Array(shuffled[nTest...]), Array(shuffled[..<nTest]))
    }

    public func save(_ url: URL) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try e.encode(self).write(to: url, options: .atomic)
    }

    public static func load(_ url: URL) throws -> DatasetSplit {
        try JSONDecoder().decode(DatasetSplit.self, from: Data(contentsOf: url))
    }

    /// The saved split at `url` if present, else `make()` saved there (so the first run fixes it for later ones).
    public static func loadOrCreate(at url: URL, _ make: () -> DatasetSplit) throws -> DatasetSplit {
        if FileManager.default.fileExists(atPath: url.path) { return try load(url) }
        let split = make()
        try split.save(url)
        return split
    }
}
