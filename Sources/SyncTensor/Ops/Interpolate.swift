/// Resampling of NCHW tensors: bilinear (`F.interpolate(mode="bilinear", align_corners=False)`, no antialias)
/// and nearest (`mode="nearest"`: source index floor(dst * in/out)). Both differentiable.
extension Tensor {
    /// Bilinear resize of the last two dimensions to (outH, outW).
    public func bilinearResized(height outH: Int, width outW: Int) -> Tensor {
        precondition(rank >= 2, "resize needs at least 2 dims, got \(shape)")
        let h = shape[rank - 2], w = shape[rank - 1]
        let planes = count / max(h * w, 1)
        let ys = BilinearTaps.make(inSize: h, outSize: outH), xs = BilinearTaps.make(inSize: w, outSize: outW)
        let out = Tensor(zeros: Array(shape[..<(rank - 2)]) + [outH, outW], zeroed: false)
        let x = data, y = out.data
        Parallel.forRange(planes, costPerItem: outH * outW * 4) { r in
            for p in r {
                let src = x + p * h * w, dst = y + p * outH * outW
                for oy in 0..<outH {
                    let r0 = src + ys.i0[oy] * w, r1 = src + ys.i1[oy] * w
                    let wy1 = ys.l[oy], wy0 = 1 - wy1
                    let d = dst + oy * outW
                    for ox in 0..<outW {
                        let a = xs.i0[ox], b = xs.i1[ox], wx1 = xs.l[ox], wx0 = 1 - wx1
                        d[ox] = wy0 * (wx0 * r0[a] + wx1 * r0[b]) + wy1 * (wx0 * r1[a] + wx1 * r1[b])
                    }
                }
            }
        }
        let inShape = shape
        return out.recording("bilinear", [self]) { g in
            let gi = Tensor(zeros: inShape)
            let gp = g.data, d = gi.data
            Parallel.forRange(planes, costPerItem: outH * outW * 4) { r in
                for p in r {
                    let src = gp + p * outH * outW, dst = d + p * h * w
                    for oy in 0..<outH {
                        let wy1 = ys.l[oy], wy0 = 1 - wy1
                        let r0 = dst + ys.i0[oy] * w, r1 = dst + ys.i1[oy] * w
                        for ox in 0..<outW {
                            let v = src[oy * outW + ox]
                            let a = xs.i0[ox], b = xs.i1[ox], wx1 = xs.l[ox], wx0 = 1 - wx1
                            r0[a] += wy0 * wx0 * v; r0[b] += wy0 * wx1 * v
                            r1[a] += wy1 * wx0 * v; r1[b] += wy1 * wx1 * v
                        }
                    }
                }
            }
            return [gi]
        }
    }

    /// Nearest-neighbour resize of the last two dimensions (PyTorch `mode="nearest"`).
    public func nearestResized(height outH: Int, width outW: Int) -> Tensor {
        let h = shape[rank - 2], w = shape[rank - 1]
        let planes = count / max(h * w, 1)
        let iy = (0..<outH).map { Swift.min(Int(Float($0) * Float(h) / Float(outH)), h - 1) }
        let ix = (0..<outW).map { Swift.min(Int(Float($0) * Float(w) / Float(outW)), w - 1) }
        let out = Tensor(zeros: Array(shape[..<(rank - 2)]) + [outH, outW], zeroed: false)
        for p in 0..<planes {
            let src = data + p * h * w, dst = out.data + p * outH * outW
            for oy in 0..<outH { let row = src + iy[oy] * w; for ox in 0..<outW { dst[oy * outW + ox] = row[ix[ox]] } }
        }
        let inShape = shape
        return out.recording("nearest", [self]) { g in
            let gi = Tensor(zeros: inShape)
            for p in 0..<planes {
                let src = g.data + p * outH * outW, dst = gi.data + p * h * w
                for oy in 0..<outH { for ox in 0..<outW { dst[iy[oy] * w + ix[ox]] += src[oy * outW + ox] } }
            }
            return [gi]
        }
    }
}

/// Source taps of 1-D linear interpolation with align_corners=False:
/// src = max((i + 0.5) * in/out - 0.5, 0), i0 = floor(src), i1 = min(i0 + 1, in - 1), l = src - i0.
public struct BilinearTaps: Sendable {
    public var i0: [Int], i1: [Int], l: [Float]
    public static func make(inSize: Int, outSize: Int) -> BilinearTaps {
        let scale = Float(inSize) / Float(outSize)
        var t = BilinearTaps(i0: [], i1: [], l: [])
        t.i0.reserveCapacity(outSize); t.i1.reserveCapacity(outSize); t.l.reserveCapacity(outSize)
        for i in 0..<outSize {
            let src = Swift.max((Float(i) + 0.5) * scale - 0.5, 0)
            let a = Swift.min(Int(src), inSize - 1)
            t.i0.append(a)
            t.i1.append(Swift.min(a + 1, inSize - 1))
            t.l.append(src - Float(a))
        }
        return t
    }
}
