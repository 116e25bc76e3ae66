import Foundation
import SyncTensor

/// SyncSAM's segmentation loss (SPEC 0 "loss", 6.3; paper Eq. 2): `L = diceWeight * Dice + Focal`.
///
/// Both terms use p = sigmoid(logits) of the low-resolution logits upsampled bilinearly (align_corners=False)
/// to the target size:
/// - Dice over the whole batch: `1 - (2 sum(p*y) + smooth) / (sum p + sum y + smooth)`;
/// - Focal, mean over every pixel of the batch:
///   `-alpha y (1-p)^gamma log(p + 1e-12) - (1-alpha)(1-y) p^gamma log(1 - p + 1e-12)`.
///
/// Port of `syncsam_loss` in shared/reference/syncsam_ref.py (the SAM-Med2D formulas with the paper's weighting).
public struct SegmentationLossConfig: Codable, Sendable, Equatable {
    public var diceWeight: Float = 20
    public var focalWeight: Float = 1
    public var focalAlpha: Float = 0.25
    public var focalGamma: Float = 2
    public var diceSmooth: Float = 1

    public init(diceWeight: Float = 20, focalWeight: Float = 1, focalAlpha: Float = 0.25, focalGamma: Float = 2,
                diceSmooth: Float = 1) {
        self.diceWeight = diceWeight
        self.focalWeight = focalWeight
        self.focalAlpha = focalAlpha
        self.focalGamma = focalGamma
        self.diceSmooth = diceSmooth
    }

    /// The paper's setting: 20 x Dice + Focal (alpha 0.25, gamma 2, smooth 1).
    public static let paper = SegmentationLossConfig()
}

/// The loss value and its two terms (plain numbers, for logging).
public struct SegmentationLossParts: Sendable, Equatable {
    public var total: Double
    public var dice: Double
    public var focal: Double
}

/// `diceWeight * Dice + focalWeight * Focal` as one fused kernel: a single pass accumulates the batch sums in
/// Double, a second writes dL/dlogit; the result joins the tape through the engine's own ops, so the bilinear
/// upsampling and everything before it differentiate as usual.
public struct SegmentationLoss: Sendable {
    public var config: SegmentationLossConfig

    public init(_ config: SegmentationLossConfig = .paper) { self.config = config }

    /// The loss of low-resolution logits against full-size binary targets.
    /// - Parameters:
    ///   - logits: `[N, 1, h, w]` low-resolution mask logits (e.g. 64x64 at 256 input).
    ///   - targets: `[N, 1, H, W]` values in {0, 1} (soft targets in [0, 1] also work).
    /// - Returns: a 0-d tensor on the tape of `logits` (when it requires gradients), plus the parts as numbers.
    public func callAsFunction(logits: Tensor, targets: Tensor) -> (loss: Tensor, parts: SegmentationLossParts) {
        precondition(logits.rank == 4 && targets.rank == 4 && logits.shape[0] == targets.shape[0]
                     && logits.shape[1] == targets.shape[1],
                     "loss: logits \(logits.shape) vs targets \(targets.shape)")
        let h = targets.shape[2], w = targets.shape[3]
        let up = (logits.shape[2] == h && logits.shape[3] == w) ? logits : logits.bilinearResized(height: h, width: w)
        return onUpsampled(up, targets: targets)
    }

    /// The loss of logits already at the target size (`[N, 1, H, W]` both).
    public func onUpsampled(_ up: Tensor, targets: Tensor) -> (loss: Tensor, parts: SegmentationLossParts) {
        precondition(up.shape == targets.shape, "loss: logits \(up.shape) vs targets \(targets.shape)")
        let needsGrad = GradMode.isEnabled && up.requiresGrad
        let kernel = FusedLossKernel(config: config, logits: up.detached(), targets: targets.detached())
        let sums = kernel.sums()
        let parts = kernel.parts(sums)
        guard needsGrad else { return (Tensor(scalar: Float(parts.total)), parts) }
        let g = kernel.gradient(sums)
        // (up - stop(up)) * g sums to exactly 0 and differentiates to g: the value is the fused loss, the
        // gradient flows into `up` through the engine's subtract/multiply/sum rules.
        let zero = up.subtracting(up.detached()).multiplying(g).sum()
        return (zero + Float(parts.total), parts)
    }
}

/// The fused forward/backward kernel of `SegmentationLoss`, on one contiguous pair of tensors.
struct FusedLossKernel {
    let config: SegmentationLossConfig
    let logits: Tensor
    let targets: Tensor
    static let eps = 1e-12
    private static let blockSize = 16_384

    /// Batch sums: sum p*y, sum p, sum y, sum focal.
    struct Sums { var py = 0.0, p = 0.0, y = 0.0, focal = 0.0 }

    func sums() -> Sums {
        let n = logits.count
        let blocks = (n + Self.blockSize - 1) / Self.blockSize
        var partial = [Sums](repeating: Sums(), count: blocks)
        let alpha = Double(config.focalAlpha), gamma = Double(config.focalGamma)
        let x = logits.data, t = targets.data
        partial.withUnsafeMutableBufferPointer { out in
            let outBox = UncheckedSendableBox(out)
            Parallel.forRange(blocks, costPerItem: Self.blockSize * 20) { r in
                for b in r {
                    var s = Sums()
                    for i in (b * Self.blockSize)..<min(n, (b + 1) * Self.blockSize) {
                        let p = 1 / (1 + exp(-Double(x[i]))), y = Double(t[i])
                        s.py += p * y; s.p += p; s.y += y
                        s.focal += -alpha * y * Self.power(1 - p, gamma) * log(p + Self.eps)
                            - (1 - alpha) * (1 - y) * Self.power(p, gamma) * log(1 - p + Self.eps)
                    }
                    outBox.value[b] = s
                }
            }
        }
        return partial.reduce(into: Sums()) { a, s in a.py += s.py; a.p += s.p; a.y += s.y; a.focal += s.focal }
    }

    func parts(_ s: Sums) -> SegmentationLossParts {
        let smooth = Double(config.diceSmooth)
        let dice = 1 - (2 * s.py + smooth) / (s.p + s.y + smooth)
        let focal = s.focal / Double(max(logits.count, 1))
        return SegmentationLossParts(total: Double(config.diceWeight) * dice + Double(config.focalWeight) * focal,
                                     dice: dice, focal: focal)
    }

    /// dL/dlogit per pixel, same shape as `logits`.
    func gradient(_ s: Sums) -> Tensor {
        let n = logits.count
        let out = Tensor(zeros: logits.shape, zeroed: false)
        let smooth = Double(config.diceSmooth)
        let den = s.p + s.y + smooth, num = 2 * s.py + smooth
        let wd = Double(config.diceWeight), wf = Double(config.focalWeight) / Double(max(n, 1))
        let alpha = Double(config.focalAlpha), gamma = Double(config.focalGamma)
        let x = logits.data, t = targets.data, g = out.data
        Parallel.forRange(n, costPerItem: 30) { r in
            for i in r {
                let p = 1 / (1 + exp(-Double(x[i]))), y = Double(t[i]), q = 1 - p
                // d Dice / d p_i = -(2 y_i den - num) / den^2
                let dDice = -(2 * y * den - num) / (den * den)
                let lp = log(p + Self.eps), lq = log(q + Self.eps)
                let dPos = -alpha * y * (-gamma * Self.power(q, gamma - 1) * lp + Self.power(q, gamma) / (p + Self.eps))
                let dNeg = -(1 - alpha) * (1 - y) * (gamma * Self.power(p, gamma - 1) * lq - Self.power(p, gamma) / (q + Self.eps))
                g[i] = Float((wd * dDice + wf * (dPos + dNeg)) * p * q)
            }
        }
        return out
    }

    /// x^e with the integer exponents of the paper's focal term done by multiplication (exact and fast).
    @inline(__always) static func power(_ x: Double, _ e: Double) -> Double {
        if e == 2 { return x * x }
        if e == 1 { return x }
        if e == 0 { return 1 }
        return pow(x, e)
    }
}
