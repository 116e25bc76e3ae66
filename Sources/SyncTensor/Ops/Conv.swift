/// 2-D convolution and transposed convolution as im2col/col2im + BLAS sgemm (PyTorch layouts:
/// `Conv2d.weight` [O, C, kH, kW], `ConvTranspose2d.weight` [C_in, C_out, kH, kW]). No groups, no dilation.
public struct Conv2dGeometry: Sendable, Equatable {
    public var kernel: (Int, Int)
    public var stride: (Int, Int)
    public var padding: (Int, Int)
    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }
    public static func == (a: Self, b: Self) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding
    }
    /// Output size of a convolution over an input of `h` x `w`.
    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding.0 - kernel.0) / stride.0 + 1, (w + 2 * padding.1 - kernel.1) / stride.1 + 1)
    }
    /// True when im2col is the identity (1x1 kernel, stride 1, no padding).
    var isPointwise: Bool { kernel == (1, 1) && stride == (1, 1) && padding == (0, 0) }
}

extension Tensor {
    /// Convolution: self [N, C, H, W], weight [O, C, kH, kW], bias [O] -> [N, O, Ho, Wo].
    public func conv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[1] == shape[1],
                     "conv2d: input \(shape) vs weight \(weight.shape)")
        let geo = Conv2dGeometry(kernel: (weight.shape[2], weight.shape[3]), stride: (stride, stride), padding: (padding, padding))
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let o = weight.shape[0]
        let (ho, wo) = geo.outputSize(h, w)
        precondition(ho > 0 && wo > 0, "conv2d: input \(shape) too small for kernel \(weight.shape)")
        let ckk = c * geo.kernel.0 * geo.kernel.1, hw = ho * wo
        let out = Tensor(zeros: [n, o, ho, wo], zeroed: false)
        let col = geo.isPointwise ? nil : TensorStorage(count: ckk * hw, zeroed: false)
        for b in 0..<n {
            let x = data + b * c * h * w
            let colPtr: UnsafePointer<Float>
            if let col { Im2Col.im2col(x, c: c, h: h, w: w, geo: geo, ho: ho, wo: wo, col.base); colPtr = UnsafePointer(col.base) }
            else { colPtr = UnsafePointer(x) }
            let y = out.data + b * o * hw
            if let bias { for oc in 0..<o { (y + oc * hw).update(repeating: bias.data[oc], count: hw) } }
            BLAS.sgemm(transA: false, transB: false, m: o, n: hw, k: ckk, a: weight.data, lda: ckk,
                       b: colPtr, ldb: hw, beta: bias == nil ? 0 : 1, c: y, ldc: hw)
        }
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        // The input is kept only when the weight needs its gradient.
        let needInputGrad = requiresGrad, inputShape = shape
        let savedInput: Tensor? = weight.requiresGrad ? self : nil
        return out.recording("conv2d", inputs) { g in
            var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
            if needInputGrad { gx = Tensor(zeros: inputShape) }
            if weight.requiresGrad { gw = Tensor(zeros: weight.shape) }
            let tmp = TensorStorage(count: ckk * hw, zeroed: false)
            for b in 0..<n {
                let gy = g.data + b * o * hw
                if let gw, let input = savedInput {
                    let x = input.data + b * c * h * w
                    let colPtr: UnsafePointer<Float>
                    if geo.isPointwise { colPtr = UnsafePointer(x) }
                    else { Im2Col.im2col(x, c: c, h: h, w: w, geo: geo, ho: ho, wo: wo, tmp.base); colPtr = UnsafePointer(tmp.base) }
                    BLAS.sgemm(transA: false, transB: true, m: o, n: ckk, k: hw, a: gy, lda: hw,
                               b: colPtr, ldb: hw, beta: 1, c: gw.data, ldc: ckk)
                }
                if let gx {
                    let gxb = gx.data + b * c * h * w
                    if geo.isPointwise {
                        BLAS.sgemm(transA: true, transB: false, m: ckk, n: hw, k: o, a: weight.data, lda: ckk,
                                   b: gy, ldb: hw, c: gxb, ldc: hw)
                    } else {
                        BLAS.sgemm(transA: true, transB: false, m: ckk, n: hw, k: o, a: weight.data, lda: ckk,
                                   b: gy, ldb: hw, c: tmp.base, ldc: hw)
                        Im2Col.col2im(tmp.base, c: c, h: h, w: w, geo: geo, ho: ho, wo: wo, gxb)
                    }
                }
            }
            if let bias, bias.requiresGrad { gb = g.sum(dims: [0, 2, 3]) }
            return [gx, gw, gb]
        }
    }

    /// Transposed convolution: self [N, C_in, H, W], weight [C_in, C_out, kH, kW], bias [C_out]
    /// -> [N, C_out, (H-1)s - 2p + kH + outputPadding, ...]. For k = s (SAM's upscaling) windows do not overlap.
    public func convTranspose2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[0] == shape[1],
                     "conv_transpose2d: input \(shape) vs weight \(weight.shape)")
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let cout = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
        let ho = (h - 1) * stride - 2 * padding + kh + outputPadding
        let wo = (w - 1) * stride - 2 * padding + kw + outputPadding
        // The output plays the role of a convolution input whose im2col grid is the (h, w) input grid.
        let geo = Conv2dGeometry(kernel: (kh, kw), stride: (stride, stride), padding: (padding, padding))
        let ckk = cout * kh * kw, hw = h * w
        let out = Tensor(zeros: [n, cout, ho, wo])
        let col = TensorStorage(count: ckk * hw, zeroed: false)
        for b in 0..<n {
            BLAS.sgemm(transA: true, transB: false, m: ckk, n: hw, k: cin, a: weight.data, lda: ckk,
                       b: data + b * cin * hw, ldb: hw, c: col.base, ldc: hw)
            Im2Col.col2im(col.base, c: cout, h: ho, w: wo, geo: geo, ho: h, wo: w, out.data + b * cout * ho * wo)
        }
        if let bias {
            let plane = ho * wo
            for b in 0..<n { for oc in 0..<cout {
                let p = out.data + (b * cout + oc) * plane, v = bias.data[oc]
                for i in 0..<plane { p[i] += v }
            } }
        }
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        let needInputGrad = requiresGrad, inputShape = shape
        let savedInput: Tensor? = weight.requiresGrad ? self : nil
        return out.recording("conv_transpose2d", inputs) { g in
            var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
            if needInputGrad { gx = Tensor(zeros: inputShape, zeroed: false) }
            if weight.requiresGrad { gw = Tensor(zeros: weight.shape) }
            let tmp = TensorStorage(count: ckk * hw, zeroed: false)
            for b in 0..<n {
                Im2Col.im2col(g.data + b * cout * ho * wo, c: cout, h: ho, w: wo, geo: geo, ho: h, wo: w, tmp.base)
                if let gx {
                    BLAS.sgemm(transA: false, transB: false, m: cin, n: hw, k: ckk, a: weight.data, lda: ckk,
                               b: tmp.base, ldb: hw, c: gx.data + b * cin * hw, ldc: hw)
                }
                if let gw, let input = savedInput {
                    BLAS.sgemm(transA: false, transB: true, m: cin, n: ckk, k: hw, a: input.data + b * cin * hw, lda: hw,
                               b: tmp.base, ldb: hw, beta: 1, c: gw.data, ldc: ckk)
                }
            }
            if let bias, bias.requiresGrad { gb = g.sum(dims: [0, 2, 3]) }
            return [gx, gw, gb]
        }
    }
}

/// im2col / col2im for one image: col [C*kH*kW, Ho*Wo], rows ordered (c, ky, kx) like the weight layout.
enum Im2Col {
    static func im2col(_ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, geo: Conv2dGeometry, ho: Int, wo: Int,
                       _ col: UnsafeMutablePointer<Float>) {
        let (kh, kw) = geo.kernel, (sh, sw) = geo.stride, (ph, pw) = geo.padding
        Parallel.forRange(c * kh * kw, costPerItem: ho * wo) { rows in
            for row in rows {
                let kx = row % kw, ky = (row / kw) % kh, ch = row / (kw * kh)
                let dst = col + row * ho * wo
                let src = x + ch * h * w
                for oy in 0..<ho {
                    let iy = oy * sh - ph + ky
                    let d = dst + oy * wo
                    if iy < 0 || iy >= h { d.update(repeating: 0, count: wo); continue }
                    let srow = src + iy * w
                    if sw == 1 {
                        let lo = Swift.max(0, pw - kx), hi = Swift.min(wo, w + pw - kx)
                        if lo > 0 { d.update(repeating: 0, count: Swift.min(lo, wo)) }
                        if hi > lo { (d + lo).update(from: srow + (lo - pw + kx), count: hi - lo) }
                        if hi < wo { (d + Swift.max(hi, 0)).update(repeating: 0, count: wo - Swift.max(hi, 0)) }
                    } else {
                        for ox in 0..<wo {
                            let ix = ox * sw - pw + kx
                            d[ox] = (ix >= 0 && ix < w) ? srow[ix] : 0
                        }
                    }
                }
            }
        }
    }

    /// Accumulates columns back into an image (x is overwritten).
    static func col2im(_ col: UnsafePointer<Float>, c: Int, h: Int, w: Int, geo: Conv2dGeometry, ho: Int, wo: Int,
                       _ x: UnsafeMutablePointer<Float>) {
        let (kh, kw) = geo.kernel, (sh, sw) = geo.stride, (ph, pw) = geo.padding
        // Parallel over channels: each channel's kernel rows write only into that channel's plane.
        Parallel.forRange(c, costPerItem: kh * kw * ho * wo) { chans in
            for ch in chans {
                let dst = x + ch * h * w
                dst.update(repeating: 0, count: h * w)
                for ky in 0..<kh { for kx in 0..<kw {
                    let src = col + ((ch * kh + ky) * kw + kx) * ho * wo
                    for oy in 0..<ho {
                        let iy = oy * sh - ph + ky
                        if iy < 0 || iy >= h { continue }
                        let drow = dst + iy * w, s = src + oy * wo
                        for ox in 0..<wo {
                            let ix = ox * sw - pw + kx
                            if ix >= 0 && ix < w { drow[ix] += s[ox] }
                        }
                    }
                } }
            }
        }
    }
}
