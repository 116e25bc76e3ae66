import MedImage
import SyncTensor

/// Geometry of the model-input transform of one image: original size and the padded square side, so prompts
/// and predictions map between original and model pixels.
public struct InputGeometry: Codable, Sendable, Equatable {
    public var originalWidth: Int
    public var originalHeight: Int
    /// Side of the zero-padded square (max of width and height).
    public var paddedSide: Int
    /// Model input side (256).
    public var modelSide: Int

    /// Model pixels per original pixel.
    public var scale: Double { Double(modelSide) / Double(paddedSide) }
    /// The part of the model input covered by the image (the rest is padding), rounded up.
    public var validModelWidth: Int { Int((Double(originalWidth) * scale).rounded(.up)) }
    public var validModelHeight: Int { Int((Double(originalHeight) * scale).rounded(.up)) }
}

/// SPEC 0 "preprocessing": RGB (grey replicated), pad bottom/right with 0 to a square, resize to the model size
/// (bilinear, align_corners=False, no antialias, for images; nearest for masks), normalise with
/// mean (123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375) on the 0-255 scale.
public struct SamplePreparation: Codable, Sendable, Equatable {
    public var imageSize: Int = 256
    public var pixelMean: [Float] = [123.675, 116.28, 103.53]
    public var pixelStd: [Float] = [58.395, 57.12, 57.375]

    public init(imageSize: Int = 256) { self.imageSize = imageSize }

    public func geometry(width: Int, height: Int) -> InputGeometry {
        InputGeometry(originalWidth: width, originalHeight: height, paddedSide: max(width, height), modelSide: imageSize)
    }

    /// The normalised model input `[3, S, S]` of an 8-bit-range image (grey or RGB).
    public func image(_ img: Image2D) -> (tensor: Tensor, geometry: InputGeometry) {
        let g = geometry(width: img.width, height: img.height)
        let side = g.paddedSide, plane = side * side
        // Planar RGB, padded bottom/right with zeros.
        let padded = Tensor(zeros: [1, 3, side, side])
        let dst = padded.data, c = img.channels
        img.pixels.withUnsafeBufferPointer { src in
            for y in 0..<img.height {
                for x in 0..<img.width {
                    let s = (y * img.width + x) * c
                    for ch in 0..<3 { dst[ch * plane + y * side + x] = src[s + (c == 3 ? ch : 0)] }
                }
            }
        }
        let resized = side == imageSize ? padded : withNoGrad { padded.bilinearResized(height: imageSize, width: imageSize) }
        let out = resized.reshaped([3, imageSize, imageSize])
        let n = imageSize * imageSize, p = out.data
        for ch in 0..<3 {
            let m = pixelMean[ch], inv = 1 / pixelStd[ch]
            for i in (ch * n)..<((ch + 1) * n) { p[i] = (p[i] - m) * inv }
        }
        return (out, g)
    }

    /// A mask at model resolution (pad to the square, nearest resize).
    public func mask(_ m: BinaryMask) -> BinaryMask {
        let side = max(m.width, m.height)
        return m.paddedBottomRight(width: side, height: side).resizedNearest(width: imageSize, height: imageSize)
    }

    /// Model-resolution logits `[.., S, S]` (one plane) back to an original-size binary mask: crop the padding
    /// (in the square frame), resize bilinearly to the original size, threshold at 0 (SPEC 0).
    public func originalMask(fromLogits logits: Tensor, geometry g: InputGeometry) -> BinaryMask {
        let s = logits.shape[logits.rank - 1]
        let plane = logits.reshaped([1, 1, s, s])
        let square = s == g.paddedSide ? plane : withNoGrad { plane.bilinearResized(height: g.paddedSide, width: g.paddedSide) }
        let cropped = withNoGrad {
            square.narrowed(2, start: 0, length: g.originalHeight).narrowed(3, start: 0, length: g.originalWidth)
        }
        return BinaryMask(plane: cropped, threshold: 0)
    }
}
