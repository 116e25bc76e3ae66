import MedImage
import SyncTensor

/// The model's answer for one object of a 2-D image: what the predictor returns and the output writer takes.
public struct ObjectPrediction: Sendable {
    /// Label value of the object in label maps and file names (`mask_<label>.png`).
    public var label: Int
    /// Binary mask at the original image size.
    public var mask: BinaryMask
    /// Predicted IoU (SAM checkpoints only; nil for models without an IoU head).
    public var score: Float?
    /// Low-resolution logits [1, 1, m, m] to feed back as this object's mask prompt in the next round.
    public var lowResLogits: Tensor?

    public init(label: Int, mask: BinaryMask, score: Float? = nil, lowResLogits: Tensor? = nil) {
        self.label = label
        self.mask = mask
        self.score = score
        self.lowResLogits = lowResLogits
    }
}

extension ObjectPrediction: Equatable {
    /// Equal labels, masks and scores (the logits are a by-product and not compared).
    public static func == (a: Self, b: Self) -> Bool { a.label == b.label && a.mask == b.mask && a.score == b.score }
}
