import MedImage
import SyncSAM
import SyncTensor

/// One prepared training image: model input, and `masksPerImage` non-empty masks at model resolution.
public struct TrainingSample: Sendable {
    public var recordID: String
    /// `[3, S, S]`, normalised.
    public var image: Tensor
    public var transform: ImageTransform
    public var maskIDs: [String]
    /// S x S, never empty.
    public var masks: [BinaryMask]
}

/// A batch: images and their masks image-major (mask j belongs to image j / masksPerImage).
public struct TrainingBatch: Sendable {
    /// `[B, 3, S, S]`.
    public var images: Tensor
    /// `[B * m, 1, S, S]` 0/1 targets.
    public var targets: Tensor
    public var masks: [BinaryMask]
    public var maskIDs: [String]
    public var recordIDs: [String]
    public var transforms: [ImageTransform]
    public var masksPerImage: Int

    /// Stacks samples (all with the same number of masks).
    public static func collate(_ samples: [TrainingSample]) -> TrainingBatch {
        precondition(!samples.isEmpty, "empty batch")
        let m = samples[0].masks.count
        precondition(samples.allSatisfy { $0.masks.count == m }, "samples with different mask counts")
        let s = samples[0].image.shape[1]
        let images = Tensor.stack(samples.map(\.image), dim: 0)
        let masks = samples.flatMap(\.masks)
        let targets = Tensor(zeros: [masks.count, 1, s, s])
        for (k, mask) in masks.enumerated() {
            let dst = targets.data + k * s * s
            for i in 0..<(s * s) { dst[i] = Float(mask.values[i]) }
        }
        return TrainingBatch(images: images, targets: targets, masks: masks, maskIDs: samples.flatMap(\.maskIDs),
                             recordIDs: samples.map(\.recordID), transforms: samples.map(\.transform), masksPerImage: m)
    }
}

/// Builds training samples and epochs (SPEC 6.2, 9 #15, #16): `masksPerImage` masks drawn with replacement;
/// masks empty after the resize to the model size are dropped and redrawn; an image without any usable mask is
/// skipped. Every batch has its own generator derived from (seed, epoch, batch), so batches are reproducible
/// whatever order a background loader builds them in.
public struct TrainingSampler: Sendable {
    public var dataset: DatasetIndex
    public var records: [ImageRecord]
    public var preparation: SamplePreparation
    public var masksPerImage: Int
    public var imagesPerBatch: Int
    public var seed: UInt64

    public init(dataset: DatasetIndex, records: [ImageRecord], preparation: SamplePreparation = SamplePreparation(),
                masksPerImage: Int = 5, imagesPerBatch: Int = 2, seed: UInt64 = 0) {
        self.dataset = dataset; self.records = records; self.preparation = preparation
        self.masksPerImage = masksPerImage; self.imagesPerBatch = imagesPerBatch; self.seed = seed
    }

    /// Number of batches per epoch (the last one may be smaller).
    public var batchesPerEpoch: Int { (records.count + imagesPerBatch - 1) / imagesPerBatch }

    /// Record indices of every batch of `epoch` (a seeded shuffle per epoch).
    public func epochOrder(_ epoch: Int) -> [[Int]] {
        var rng = SeededRandom(seed: Self.mix(seed, UInt64(epoch), 0x5EED))
        var order = Array(records.indices)
        order.shuffle(using: &rng)
        return stride(from: 0, to: order.count, by: imagesPerBatch).map { Array(order[$0..<min($0 + imagesPerBatch, order.count)]) }
    }

    /// Batch `batch` of `epoch`; nil when none of its images has a usable mask. Pass `order` (from `epochOrder`)
    /// to avoid reshuffling per batch.
    public func batch(epoch: Int, batch: Int, order: [[Int]]? = nil) throws -> TrainingBatch? {
        var rng = SeededRandom(seed: Self.mix(seed, UInt64(epoch), UInt64(batch) &+ 1))
        var samples: [TrainingSample] = []
        for i in (order ?? epochOrder(epoch))[batch] {
            if let s = try sample(records[i], rng: &rng) { samples.append(s) }
        }
        return samples.isEmpty ? nil : TrainingBatch.collate(samples)
    }

    /// One prepared image with `masksPerImage` masks drawn with replacement among its non-empty (after resize) masks.
    public func sample(_ record: ImageRecord, rng: inout SeededRandom) throws -> TrainingSample? {
        var candidates = Array(record.masks.indices)
        var usable: [Int: BinaryMask] = [:]
        var chosen: [Int] = []
        while chosen.count < masksPerImage && !candidates.isEmpty {
            let draws = (0..<(masksPerImage - chosen.count)).map { _ in candidates[rng.int(in: 0..<candidates.count)] }
            let toLoad = Array(Set(draws.filter { usable[$0] == nil })).sorted()
            for (k, m) in zip(toLoad, try dataset.loadMasks(record, indices: toLoad)) {
                let prepared = preparation.mask(m)
                if prepared.isEmpty { candidates.removeAll { $0 == k } } else { usable[k] = prepared }
            }
            chosen += draws.filter { usable[$0] != nil }
        }
        guard !chosen.isEmpty else { return nil }
        let (image, transform) = try preparation.image(try dataset.loadImage(record))
        return TrainingSample(recordID: record.id, image: image, transform: transform,
                              maskIDs: chosen.map { record.masks[$0].id }, masks: chosen.map { usable[$0]! })
    }

    /// SplitMix64-style mixing of seed parts into one seed.
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1) &+ 0xBF58_476D_1CE4_E5B9 &* (c &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
