import MedImage
import SyncSAM
import SyncTensor

/// Training-side use of SPEC 0 "preprocessing": images go through the predictor's `ImageTransform` (`.sam`: RGB,
/// pad bottom/right to a square, bilinear resize to the model size, ImageNet mean/std), so training and inference
/// see identical inputs; masks are padded the same way and resized with nearest neighbour.
public struct SamplePreparation: Sendable, Equatable {
    public var imageSize: Int

    public init(imageSize: Int = 256) { self.imageSize = imageSize }

    /// The transform of an image of the given size.
    public func transform(width: Int, height: Int) -> ImageTransform {
        ImageTransform(kind: .sam, width: width, height: height, inputSize: imageSize)
    }

    /// The normalised model input `[3, S, S]` of an 8-bit-range image (grey or RGB) and its transform.
    public func image(_ img: Image2D) throws -> (tensor: Tensor, transform: ImageTransform) {
        let t = transform(width: img.width, height: img.height)
        return (try t.modelInput(img).reshaped([3, imageSize, imageSize]), t)
    }

    /// A mask at model resolution (pad to the square, nearest resize).
    public func mask(_ m: BinaryMask) -> BinaryMask {
        let side = max(m.width, m.height)
        return m.paddedBottomRight(width: side, height: side).resizedNearest(width: imageSize, height: imageSize)
    }

    /// Logits of one mask (low-res or model size) back to a binary mask at the original size (SPEC 0: upsample,
    /// crop the padding, resize, logits > 0).
    public func originalMask(fromLogits logits: Tensor, transform: ImageTransform) -> BinaryMask {
        let s = logits.shape[logits.rank - 1]
        let plane = logits.reshaped([1, 1, logits.shape[logits.rank - 2], s])
        return BinaryMask(plane: withNoGrad { transform.logitsToOriginal(plane) }, threshold: 0)
    }
}
