/// Max pooling (ResNet stem: 3x3, stride 2, padding 1), with argmax kept for the backward pass.
extension Tensor {
    /// self [N, C, H, W] -> [N, C, Ho, Wo]; padding counts as -infinity.
    public func maxPool2d(kernel: Int, stride: Int, padding: Int = 0) -> Tensor {
        precondition(rank == 4, "max_pool2d needs NCHW, got \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let ho = (h + 2 * padding - kernel) / stride + 1, wo = (w + 2 * padding - kernel) / stride + 1
        let out = Tensor(zeros: [n, c, ho, wo], zeroed: false)
        let arg = TensorStorage(count: out.count, zeroed: false)  // flat input index within the plane, as Float bits
        let argPtr = UnsafeMutableRawPointer(arg.base).bindMemory(to: Int32.self, capacity: out.count)
        let x = data, y = out.data
        Parallel.forRange(n * c, costPerItem: ho * wo * kernel * kernel) { planes in
            for p in planes {
                let src = x + p * h * w, dst = y + p * ho * wo, a = argPtr + p * ho * wo
                for oy in 0..<ho { for ox in 0..<wo {
                    var best = -Float.infinity, bi: Int32 = -1
                    for ky in 0..<kernel {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<kernel {
                            let ix = ox * stride - padding + kx
                            if ix < 0 || ix >= w { continue }
                            let v = src[iy * w + ix]
                            if v > best || bi < 0 { best = v; bi = Int32(iy * w + ix) }
                        }
                    }
                    dst[oy * wo + ox] = best
                    a[oy * wo + ox] = bi
                } }
            }
        }
        let inShape = shape
        return out.recording("max_pool2d", [self]) { g in
            let gi = Tensor(zeros: inShape)
            let ap = UnsafeMutableRawPointer(arg.base).bindMemory(to: Int32.self, capacity: g.count)
            for p in 0..<(n * c) {
                let d = gi.data + p * h * w, s = g.data + p * ho * wo, a = ap + p * ho * wo
                for i in 0..<(ho * wo) where a[i] >= 0 { d[Int(a[i])] += s[i] }
            }
            return [gi]
        }
    }
}
