import MedImage
import SyncTensor

/// How an image becomes a model input, and how predictions map back (SPEC section 0 "preprocessing").
public enum PreprocessingKind: String, Sendable, Codable {
    /// SAM / SyncSAM: RGB 0-255, pad bottom/right with 0 to a square, resize to the model size (bilinear,
    /// antialiased when shrinking), normalise with the ImageNet mean/std on the 0-255 scale.
    case sam
    /// LiteMedSAM: resize the longest side to the model size (bilinear, antialiased), min-max normalise to [0, 1]
    /// over the resized image, zero-pad bottom/right.
    case liteMedSAM
}

extension PromptableSegmenter {
    /// The embedding (B = 1) of `image` (display values 0-255) prepared by `transform`, computed without a tape:
    /// the one path from an image to its embedding for the predictor, the evaluator and the embedding cache.
    public func embed(_ image: Image2D, transform: ImageTransform) throws(MedImageError) -> ImageEmbedding {
        let input = try transform.modelInput(image)
        return withNoGrad { embed(input, trace: nil) }
    }
}

/// The geometry linking original pixels and model pixels for one image.
public struct ImageTransform: Sendable, Equatable {
    public let kind: PreprocessingKind
    public let originalWidth: Int, originalHeight: Int
    /// Model input side S.
    public let inputSize: Int
    /// Model pixels per original pixel.
    public let scale: Double
    /// The un-padded content region of the model input, `(width, height)` in model pixels.
    public let contentWidth: Int, contentHeight: Int

    public static let pixelMean: [Float] = [123.675, 116.28, 103.53]
    public static let pixelStd: [Float] = [58.395, 57.12, 57.375]

    public init(kind: PreprocessingKind, width: Int, height: Int, inputSize: Int) {
        self.kind = kind
        originalWidth = width
        originalHeight = height
        self.inputSize = inputSize
        let s = Resize.longestSideSize(width: width, height: height, target: inputSize)
        scale = s.scale
        contentWidth = s.width
        contentHeight = s.height
    }

    /// Maps an original-pixel coordinate into model pixels.
    public func toModel(_ x: Double, _ y: Double) -> (Double, Double) { (x * scale, y * scale) }

    /// The model input [1, 3, S, S] for an image whose values are display intensities 0-255 (grey or RGB;
    /// use `ModelInput.rgb8` with a window or percentile rule to get there from raw medical values).
    public func modelInput(_ image: Image2D) throws(MedImageError) -> Tensor {
        let rgb = image.channels == 3 ? image : ModelInput.rgb8(image)
        let s = inputSize
        switch kind {
        case .sam:
            let side = max(image.width, image.height)
            let square = try Resize.padBottomRight(rgb, width: side, height: side, value: 0)
            let resized = side == s ? square : try Resize.resize(square, width: s, height: s, filter: .bilinearAntialiased)
            return ImageTransform.planar(resized) { c, v in (v - ImageTransform.pixelMean[c]) / ImageTransform.pixelStd[c] }
        case .liteMedSAM:
            let resized = try Resize.resize(rgb, width: contentWidth, height: contentHeight, filter: .bilinearAntialiased)
            let (lo, hi) = resized.valueRange
            let inv = hi > lo ? 1 / (hi - lo) : 0
            let normalised = try Image2D(width: resized.width, height: resized.height, channels: 3,
                                         pixels: resized.pixels.map { ($0 - lo) * inv })
            let padded = try Resize.padBottomRight(normalised, width: s, height: s, value: 0)
            return ImageTransform.planar(padded) { _, v in v }
        }
    }

    /// Interleaved RGB image -> [1, 3, H, W] with a per-channel value map.
    static func planar(_ image: Image2D, _ map: (Int, Float) -> Float) -> Tensor {
        let hw = image.width * image.height
        let t = Tensor(zeros: [1, 3, image.height, image.width], zeroed: false)
        image.pixels.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                let d = t.data + c * hw
                for i in 0..<hw { d[i] = map(c, src[i * 3 + c]) }
            }
        }
        return t
    }

    /// Low-resolution logits [N, 1, h, w] -> logits at the original size [N, 1, H, W]: upsample to S (bilinear),
    /// crop the padding, resize to the original size (bilinear). Threshold > 0 for masks.
    public func logitsToOriginal(_ lowRes: Tensor) -> Tensor {
        var x = lowRes
        if x.size(-1) != inputSize || x.size(-2) != inputSize { x = x.bilinearResized(height: inputSize, width: inputSize) }
        if contentHeight != inputSize { x = x.narrowed(-2, start: 0, length: contentHeight) }
        if contentWidth != inputSize { x = x.narrowed(-1, start: 0, length: contentWidth) }
        if contentHeight != originalHeight || contentWidth != originalWidth {
            x = x.bilinearResized(height: originalHeight, width: originalWidth)
        }
        return x
    }
}
