import MedImage

/// The model's answer for one object of a 2-D image, as the output writer takes it.
public struct ObjectPrediction: Sendable, Equatable {
    /// Label value of the object in label maps and file names (`mask_<label>.png`).
    public var label: Int
    /// Binary mask at the original image size.
    public var mask: BinaryMask
    /// Predicted IoU (SAM checkpoints only; nil for models without an IoU head).
    public var score: Float?

    public init(label: Int, mask: BinaryMask, score: Float? = nil) {
        self.label = label
        self.mask = mask
        self.score = score
    }
}
