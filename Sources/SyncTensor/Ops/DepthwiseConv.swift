/// Depthwise 2-D convolution (PyTorch `nn.Conv2d(C, C, k, groups=C)`): every channel is convolved with its own
/// kernel, weight layout [C, 1, kH, kW]. TinyViT uses it for MBConv, patch merging and each block's local conv.
///
/// The kernels work a whole output row at a time: for each kernel tap the valid output columns are computed once
/// and the inner loop is a unit-stride multiply-add (vectorised), so a 3x3 pass reads each input plane from cache
/// and writes each output element once. Planes run in parallel.
extension Tensor {
    /// Depthwise convolution: self [N, C, H, W], weight [C, 1, kH, kW], bias [C] -> [N, C, Ho, Wo] with
    /// `Ho = (H + 2p - kH) / s + 1` (zero padding, no dilation).
    public func depthwiseConv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[0] == shape[1] && weight.shape[1] == 1,
                     "depthwise_conv2d: input \(shape) vs weight \(weight.shape) (expected [C, 1, kH, kW])")
        precondition(bias == nil || bias!.count == shape[1], "depthwise_conv2d: bias \(bias!.shape) for \(shape[1]) channels")
        let geo = DepthwiseGeometry(n: shape[0], c: shape[1], h: shape[2], w: shape[3],
                                    kh: weight.shape[2], kw: weight.shape[3], stride: stride, padding: padding)
        precondition(geo.ho > 0 && geo.wo > 0, "depthwise_conv2d: input \(shape) too small for kernel \(weight.shape)")
        let out = Tensor(zeros: [geo.n, geo.c, geo.ho, geo.wo], zeroed: false)
        DepthwiseKernel.forward(geo, x: data, w: weight.data, b: bias?.data, y: out.data)
        let input = self
        var inputs = [input, weight]
        if let bias { inputs.append(bias) }
        return out.recording("depthwise_conv2d", inputs) { g in
            var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
            if input.requiresGrad {
                let t = Tensor(zeros: input.shape)
                DepthwiseKernel.inputGradient(geo, g: g.data, w: weight.data, gx: t.data)
                gx = t
            }
            if weight.requiresGrad {
                let t = Tensor(zeros: weight.shape)
                DepthwiseKernel.weightGradient(geo, g: g.data, x: input.data, gw: t.data)
                gw = t
            }
            if let bias, bias.requiresGrad { gb = g.sum(dims: [0, 2, 3]).reshaped(bias.shape) }
            return [gx, gw, gb]
        }
    }
}

/// Sizes of one depthwise convolution.
struct DepthwiseGeometry {
    let n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Int
    let ho: Int, wo: Int

    init(n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Int) {
        precondition(stride > 0 && padding >= 0, "depthwise_conv2d: stride \(stride), padding \(padding)")
        self.n = n; self.c = c; self.h = h; self.w = w; self.kh = kh; self.kw = kw
        self.stride = stride; self.padding = padding
        ho = (h + 2 * padding - kh) / stride + 1
        wo = (w + 2 * padding - kw) / stride + 1
    }

    /// Output columns `lo..<hi` whose input column `ox * stride - padding + kx` lies inside the row.
    @inline(__always) func columns(_ kx: Int) -> (Int, Int) {
        // ix >= 0  <=>  ox >= ceil((padding - kx) / stride);  ix < w  <=>  ox <= (w - 1 + padding - kx) / stride.
        let a = padding - kx
        let lo = a <= 0 ? 0 : (a + stride - 1) / stride
        let b = w - 1 + padding - kx
        let hi = b < 0 ? 0 : Swift.min(wo, b / stride + 1)
        return (lo, Swift.max(lo, hi))
    }
}

enum DepthwiseKernel {
    static func forward(_ g: DepthwiseGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        if g.kh == 3 && g.kw == 3 && g.stride == 1 && g.padding == 1 && g.w >= 2 {
            return forward3x3(g, x: x, w: w, b: b, y: y)
        }
        let (h, wd, ho, wo, kh, kw, s, p) = (g.h, g.w, g.ho, g.wo, g.kh, g.kw, g.stride, g.padding)
        let cols = (0..<kw).map { g.columns($0) }
        Parallel.forRange(g.n * g.c, costPerItem: ho * wo * kh * kw) { planes in
            for plane in planes {
                let ch = plane % g.c
                let src = x + plane * h * wd, dst = y + plane * ho * wo, wk = w + ch * kh * kw
                let b0 = b?[ch] ?? 0
                for oy in 0..<ho {
                    let row = dst + oy * wo
                    row.update(repeating: b0, count: wo)
                    for ky in 0..<kh {
                        let iy = oy * s - p + ky
                        if iy < 0 || iy >= h { continue }
                        let srow = src + iy * wd
                        for kx in 0..<kw {
                            let (lo, hi) = cols[kx]
                            let wv = wk[ky * kw + kx]
                            if s == 1 {
                                let shifted = srow + (kx - p)
                                for ox in lo..<hi { row[ox] += wv * shifted[ox] }
                            } else {
                                for ox in lo..<hi { row[ox] += wv * srow[ox * s - p + kx] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The common 3x3, stride 1, padding 1 case: each output is written once from nine register-held weights and
    /// three input rows (a shared zero row stands in above and below the image), so the interior loop vectorises.
    static func forward3x3(_ g: DepthwiseGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                           b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let (h, wd) = (g.h, g.w)
        let zeros = [Float](repeating: 0, count: wd)
        zeros.withUnsafeBufferPointer { zp in
            let zero = zp.baseAddress!
            Parallel.forRange(g.n * g.c, costPerItem: h * wd * 9) { planes in
                for plane in planes {
                    let ch = plane % g.c
                    let src = x + plane * h * wd, dst = y + plane * h * wd, k = w + ch * 9
                    let (k0, k1, k2, k3, k4, k5, k6, k7, k8) = (k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8])
                    let bias = b?[ch] ?? 0
                    for oy in 0..<h {
                        let r0 = oy > 0 ? src + (oy - 1) * wd : zero
                        let r1 = src + oy * wd
                        let r2 = oy + 1 < h ? src + (oy + 1) * wd : zero
                        let out = dst + oy * wd
                        out[0] = bias + k1 * r0[0] + k2 * r0[1] + k4 * r1[0] + k5 * r1[1] + k7 * r2[0] + k8 * r2[1]
                        for ox in 1..<(wd - 1) {
                            var v = bias + k0 * r0[ox - 1] + k1 * r0[ox] + k2 * r0[ox + 1]
                            v += k3 * r1[ox - 1] + k4 * r1[ox] + k5 * r1[ox + 1]
                            v += k6 * r2[ox - 1] + k7 * r2[ox] + k8 * r2[ox + 1]
                            out[ox] = v
                        }
                        let e = wd - 1
                        out[e] = bias + k0 * r0[e - 1] + k1 * r0[e] + k3 * r1[e - 1] + k4 * r1[e] + k6 * r2[e - 1] + k7 * r2[e]
                    }
                }
            }
        }
    }

    /// gx (zeroed on entry) += the transposed convolution of g with each channel's kernel.
    static func inputGradient(_ g: DepthwiseGeometry, g gy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                              gx: UnsafeMutablePointer<Float>) {
        let (h, wd, ho, wo, kh, kw, s, p) = (g.h, g.w, g.ho, g.wo, g.kh, g.kw, g.stride, g.padding)
        let cols = (0..<kw).map { g.columns($0) }
        Parallel.forRange(g.n * g.c, costPerItem: ho * wo * kh * kw) { planes in
            for plane in planes {
                let ch = plane % g.c
                let gsrc = gy + plane * ho * wo, dst = gx + plane * h * wd, wk = w + ch * kh * kw
                for oy in 0..<ho {
                    let grow = gsrc + oy * wo
                    for ky in 0..<kh {
                        let iy = oy * s - p + ky
                        if iy < 0 || iy >= h { continue }
                        let drow = dst + iy * wd
                        for kx in 0..<kw {
                            let (lo, hi) = cols[kx]
                            let wv = wk[ky * kw + kx]
                            if s == 1 {
                                let shifted = drow + (kx - p)
                                for ox in lo..<hi { shifted[ox] += wv * grow[ox] }
                            } else {
                                for ox in lo..<hi { drow[ox * s - p + kx] += wv * grow[ox] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// gw[c, 0, ky, kx] = sum over batch and output positions of g * the input under that tap. Parallel over
    /// channels so that no two workers write the same kernel.
    static func weightGradient(_ g: DepthwiseGeometry, g gy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                               gw: UnsafeMutablePointer<Float>) {
        let (h, wd, ho, wo, kh, kw, s, p) = (g.h, g.w, g.ho, g.wo, g.kh, g.kw, g.stride, g.padding)
        let cols = (0..<kw).map { g.columns($0) }
        Parallel.forRange(g.c, costPerItem: g.n * ho * wo * kh * kw) { channels in
            var acc = [Double](repeating: 0, count: kh * kw)
            for ch in channels {
                for i in 0..<acc.count { acc[i] = 0 }
                for b in 0..<g.n {
                    let plane = b * g.c + ch
                    let src = x + plane * h * wd, gsrc = gy + plane * ho * wo
                    for oy in 0..<ho {
                        let grow = gsrc + oy * wo
                        for ky in 0..<kh {
                            let iy = oy * s - p + ky
                            if iy < 0 || iy >= h { continue }
                            let srow = src + iy * wd
                            for kx in 0..<kw {
                                let (lo, hi) = cols[kx]
                                var sum: Float = 0
                                for ox in lo..<hi { sum += grow[ox] * srow[ox * s - p + kx] }
                                acc[ky * kw + kx] += Double(sum)
                            }
                        }
                    }
                }
                for i in 0..<acc.count { gw[ch * kh * kw + i] = Float(acc[i]) }
            }
        }
    }
}
