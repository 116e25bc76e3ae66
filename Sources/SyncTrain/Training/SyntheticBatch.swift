import MedImage
import SyncSAM
import SyncTensor

extension TrainingBatch {
    /// A seeded stand-in batch of `images` random normalised images `[B, 3, S, S]` with the given masks
    /// (rectangles as fractions x0, y0, x1, y1 of the side), each image holding every mask: benchmarks and tests
    /// of the loop without a dataset.
    public static func synthetic(side: Int, images: Int = 1, rectangles: [(Double, Double, Double, Double)] = defaultRectangles,
                                 seed: UInt64 = 3) -> TrainingBatch {
        var rng = SeededRandom(seed: seed)
        let masks = rectangles.map { r -> BinaryMask in
            var values = [UInt8](repeating: 0, count: side * side)
            let x0 = Int(r.0 * Double(side)), x1 = max(Int(r.2 * Double(side)), x0 + 1)
            let y0 = Int(r.1 * Double(side)), y1 = max(Int(r.3 * Double(side)), y0 + 1)
            for y in y0..<min(y1, side) { for x in x0..<min(x1, side) { values[y * side + x] = 1 } }
            return try! BinaryMask(width: side, height: side, values: values)
        }
        let transform = ImageTransform(kind: .sam, width: side, height: side, inputSize: side)
        let samples = (0..<images).map { i in
            TrainingSample(recordID: "synthetic\(i)", image: Tensor.randomNormal([3, side, side], using: &rng),
                           transform: transform, maskIDs: masks.indices.map { "synthetic\(i)/mask\($0)" }, masks: masks)
        }
        return collate(samples)
    }

    /// Five masks of different sizes and places.
    public static let defaultRectangles: [(Double, Double, Double, Double)] = [
        (0.10, 0.10, 0.40, 0.35), (0.50, 0.20, 0.90, 0.60), (0.20, 0.55, 0.45, 0.95), (0.60, 0.70, 0.75, 0.85),
        (0.05, 0.40, 0.95, 0.50),
    ]
}
