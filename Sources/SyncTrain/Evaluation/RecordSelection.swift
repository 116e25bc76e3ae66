import Foundation
import SyncTensor

/// Which images and masks an evaluation scores, reproducibly: a split part, an optional sort, the first N images
/// or a seeded sample of N, and the first K masks of each image (in the index's order, sorted mask paths for
/// SA-Med2D). `description` states the choice for the tables.
public struct RecordSelection: Codable, Sendable, Equatable {
    public enum Part: Codable, Sendable, Equatable {
        case all, train, test
        /// The test list of a saved `DatasetSplit` JSON.
        case file(String)
    }

    public var part: Part = .all
    /// Seed and test fraction of the by-case split made when the layout has no official one.
    public var splitSeed: UInt64 = 0
    public var testFraction: Double = 0.2
    /// Sort images by id (SA-Med2D `SAMed2D_v1.json` keys) before taking the first N.
    public var sortedKeys = false
    public var firstImages: Int?
    /// A seeded sample of N images (sorted afterwards), after `firstImages`.
    public var limitImages: Int?
    public var limitSeed: UInt64 = 0
    public var masksPerImage: Int?

    public init() {}

    /// The selected records (masks trimmed) and the split used, if any.
    public func apply(to dataset: DatasetIndex) throws -> (records: [ImageRecord], split: DatasetSplit?) {
        var split: DatasetSplit?
        var records = dataset.records
        switch part {
        case .all: break
        case .train, .test:
            let s = dataset.officialSplit ?? DatasetSplit.byCase(dataset.records, testFraction: testFraction, seed: splitSeed)
            split = s
            records = dataset.records(in: part == .train ? s.train : s.test)
        case .file(let path):
            let s = try DatasetSplit.load(URL(fileURLWithPath: path))
            split = s
            records = dataset.records(in: s.test)
        }
        if sortedKeys { records.sort { $0.id < $1.id } }
        if let n = firstImages { records = Array(records.prefix(n)) }
        if let n = limitImages, n < records.count {
            var rng = SeededRandom(seed: limitSeed)
            var picked = Array(records.indices)
            picked.shuffle(using: &rng)
            records = picked.prefix(n).sorted().map { records[$0] }
        }
        if let k = masksPerImage {
            records = records.map { var r = $0; r.masks = Array(r.masks.prefix(k)); return r }
        }
        return (records.filter { !$0.masks.isEmpty }, split)
    }

    /// One line for the tables.
    public func description(split: DatasetSplit?) -> String {
        var parts: [String] = []
        switch part {
        case .all: parts.append("all images")
        case .train, .test:
            let unit = split.map { s -> String in
                switch s.unit {
                case .official: return "the layout's official split"
                case .byCase: return "a by-case split (whole volumes), seed \(s.seed ?? 0), \(Int((s.testFraction ?? 0) * 100)) % of cases to test"
                case .image: return "an image-level split, seed \(s.seed ?? 0)"
                }
            } ?? "split"
            parts.append("\(part == .train ? "train" : "test") part of \(unit)")
        case .file(let p): parts.append("test part of the split in \(p)")
        }
        if sortedKeys { parts.append("images in sorted key order") }
        if let n = firstImages { parts.append("first \(n) images") }
        if let n = limitImages { parts.append("a seeded sample of \(n) images (seed \(limitSeed))") }
        if let k = masksPerImage { parts.append("first \(k) masks of each image") }
        return parts.joined(separator: ", ")
    }
}
