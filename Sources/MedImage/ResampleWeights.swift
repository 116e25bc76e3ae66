/// Precomputed 1-D resampling taps: output index `o` reads `count[o]` consecutive inputs starting at `start[o]`
/// with weights `weights[o * taps + k]`.
struct ResampleWeights {
    let inputSize: Int
    let outputSize: Int
    let taps: Int
    var start: [Int]
    var count: [Int]
    var weights: [Float]

    /// PyTorch `F.interpolate(mode="bilinear", align_corners=False, antialias=False)` along one axis:
    /// `src = max(scale * (o + 0.5) - 0.5, 0)`, `scale = in / out`, taps `floor(src)` and the next one (clamped).
    static func bilinear(input: Int, output: Int) -> ResampleWeights {
        var w = ResampleWeights(inputSize: input, outputSize: output, taps: 2, start: [Int](repeating: 0, count: output),
                                count: [Int](repeating: 1, count: output),
                                weights: [Float](repeating: 0, count: output * 2))
        let scale = Float(input) / Float(output)
        for o in 0..<output {
            var src = scale * (Float(o) + 0.5) - 0.5
            if src < 0 { src = 0 }
            let i0 = min(Int(src), input - 1)
            let hasNext = i0 < input - 1
            let l1: Float = src - Float(i0)
            w.start[o] = i0
            if hasNext {
                w.count[o] = 2
                w.weights[o * 2] = 1 - l1
                w.weights[o * 2 + 1] = l1
            } else {
                w.count[o] = 1
                w.weights[o * 2] = 1
            }
        }
        return w
    }

    /// PyTorch `F.interpolate(mode="bilinear", align_corners=False, antialias=True)` along one axis
    /// (`aten/src/ATen/native/cpu/UpSampleKernel.cpp`, `_compute_indices_min_size_weights_aa`, the same scheme as
    /// PIL's `ImagingResample`): `scale = in / out`, `support = scale >= 1 ? scale : 1` (triangle radius 1 in
    /// output units), `center = scale * (o + 0.5)`, `xmin = max(Int(center - support + 0.5), 0)`,
    /// `xsize = min(Int(center + support + 0.5), in) - xmin`, tap weight `tri((j + xmin - center + 0.5) * invscale)`
    /// with `invscale = scale >= 1 ? 1/scale : 1`, normalised to sum 1. Computed in Double.
    static func antialiasedBilinear(input: Int, output: Int) -> ResampleWeights {
        let scale = Double(input) / Double(output)
        let support = scale >= 1 ? scale : 1.0
        let invscale = scale >= 1 ? 1 / scale : 1.0
        let taps = Int(support.rounded(.up)) * 2 + 1
        var w = ResampleWeights(inputSize: input, outputSize: output, taps: taps,
                                start: [Int](repeating: 0, count: output), count: [Int](repeating: 0, count: output),
                                weights: [Float](repeating: 0, count: output * taps))
        var tmp = [Double](repeating: 0, count: taps)
        for o in 0..<output {
            let center = scale * (Double(o) + 0.5)
            let xmin = max(Int(center - support + 0.5), 0)
            let xsize = min(max(min(Int(center + support + 0.5), input) - xmin, 0), taps)
            var total = 0.0
            for j in 0..<xsize {
                let x = abs((Double(j + xmin) - center + 0.5) * invscale)
                let v = x < 1 ? 1 - x : 0
                tmp[j] = v
                total += v
            }
            w.start[o] = xmin
            w.count[o] = xsize
            for j in 0..<xsize { w.weights[o * taps + j] = Float(total != 0 ? tmp[j] / total : tmp[j]) }
        }
        return w
    }

    /// Nearest neighbour as PyTorch `mode="nearest"` (and legacy PIL-free `floor` indexing):
    /// `src = min(floor(o * scale), in - 1)` with `scale = Float(in) / Float(out)` in Float32.
    static func nearest(input: Int, output: Int) -> ResampleWeights {
        var w = ResampleWeights(inputSize: input, outputSize: output, taps: 1, start: [Int](repeating: 0, count: output),
                                count: [Int](repeating: 1, count: output), weights: [Float](repeating: 1, count: output))
        let scale = Float(input) / Float(output)
        for o in 0..<output {
            let src: Int
            if input == output {
                src = o
            } else if output == 2 * input {
                src = o >> 1
            } else {
                src = min(Int((Float(o) * scale).rounded(.down)), input - 1)
            }
            w.start[o] = src
        }
        return w
    }
}
