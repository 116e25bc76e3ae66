import Foundation

/// Layer normalisation over the last dimension (`nn.LayerNorm`), over channels of NCHW (SAM's `LayerNorm2d`,
/// SPEC 1.7), and batch normalisation (`nn.BatchNorm2d`, training and eval). Statistics in Double.
extension Tensor {
    /// `nn.LayerNorm(C)` over the last dimension: self [..., C], weight/bias [C].
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        let c = shape[rank - 1]
        return normalize(outer: count / max(c, 1), c: c, inner: 1, weight: weight, bias: bias, eps: eps)
    }

    /// SAM `LayerNorm2d`: per pixel across channels. self [N, C, H, W], weight/bias [C].
    public func layerNorm2d(weight: Tensor?, bias: Tensor?, eps: Float = 1e-6) -> Tensor {
        precondition(rank == 4, "layer_norm2d needs NCHW, got \(shape)")
        return normalize(outer: shape[0], c: shape[1], inner: shape[2] * shape[3], weight: weight, bias: bias, eps: eps)
    }

    /// Normalises groups of `c` elements at stride `inner` (layout [outer, c, inner]); affine per c.
    func normalize(outer: Int, c: Int, inner: Int, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        let out = Tensor(zeros: shape, zeroed: false)
        let groups = outer * inner
        // Normalised values are kept for the backward pass only when a tape is recorded; otherwise they are
        // written straight into the output (which the affine step then overwrites in place).
        let taped = GradMode.isEnabled && (requiresGrad || weight?.requiresGrad == true || bias?.requiresGrad == true)
        let xhat = TensorStorage(count: taped ? count : 0, zeroed: false)
        let rstd = TensorStorage(count: groups, zeroed: false)
        let x = data, y = out.data, xh = taped ? xhat.base : out.data, rs = rstd.base
        let wp = weight?.data, bp = bias?.data
        if inner == 1 {
            // Rows over the last dimension (nn.LayerNorm): vectorised mean and variance, one pass to normalise.
            Parallel.forRange(outer, costPerItem: c * 4) { range in
                for o in range {
                    let p = x + o * c, q = y + o * c, h = xh + o * c
                    let mu = VectorMath.sum(p, c) / Float(c)
                    let r = 1 / (VectorMath.sumSquaredDeviations(p, c, mean: mu) / Float(c) + eps).squareRoot()
                    rs[o] = r
                    if let wp, let bp {
                        for k in 0..<c { let t = (p[k] - mu) * r; h[k] = t; q[k] = t * wp[k] + bp[k] }
                    } else {
                        for k in 0..<c { let t = (p[k] - mu) * r; h[k] = t; q[k] = t }
                        if let wp { for k in 0..<c { q[k] *= wp[k] } }
                        if let bp { for k in 0..<c { q[k] += bp[k] } }
                    }
                }
            }
        } else {
            // Channels at stride `inner` (LayerNorm2d): work items are (image, block of pixels) so both cores
            // help even for one image; Double statistics per pixel in scratch allocated once per chunk.
            let block = Swift.min(inner, 512), blocks = (inner + block - 1) / block
            Parallel.forRange(outer * blocks, costPerItem: c * block * 3) { range in
                let mean = UnsafeMutablePointer<Double>.allocate(capacity: block)
                let sq = UnsafeMutablePointer<Double>.allocate(capacity: block)
                let rstd = UnsafeMutablePointer<Float>.allocate(capacity: block)
                defer { mean.deallocate(); sq.deallocate(); rstd.deallocate() }
                for item in range {
                    let o = item / blocks, j0 = (item % blocks) * block, nj = Swift.min(block, inner - j0)
                    let base = o * c * inner + j0
                    for j in 0..<nj { mean[j] = 0; sq[j] = 0 }
                    for k in 0..<c { let p = x + base + k * inner; for j in 0..<nj { mean[j] += Double(p[j]) } }
                    let invC = 1 / Double(c)
                    for j in 0..<nj { mean[j] *= invC }
                    for k in 0..<c { let p = x + base + k * inner; for j in 0..<nj { let d = Double(p[j]) - mean[j]; sq[j] += d * d } }
                    for j in 0..<nj {
                        let r = Float(1 / (sq[j] * invC + Double(eps)).squareRoot())
                        rstd[j] = r
                        rs[o * inner + j0 + j] = r
                    }
                    for k in 0..<c {
                        let p = x + base + k * inner, q = y + base + k * inner, h = xh + base + k * inner
                        let wk = wp?[k] ?? 1, bk = bp?[k] ?? 0
                        for j in 0..<nj {
                            let v = Float(Double(p[j]) - mean[j]) * rstd[j]
                            h[j] = v
                            q[j] = v * wk + bk
                        }
                    }
                }
            }
        }
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let needInputGrad = requiresGrad, inputShape = shape
        return out.recording("layer_norm", inputs) { g in
            // The closure owns the saved statistics (the raw pointers below point into them).
            let xh = xhat.base, rs = rstd.base
            let gp = g.data
            var gx: Tensor? = nil
            if needInputGrad {
                let t = Tensor(zeros: inputShape, zeroed: false)
                let d = t.data
                Parallel.forRange(outer, costPerItem: c * inner * 4) { range in
                    var m1 = [Double](repeating: 0, count: inner), m2 = [Double](repeating: 0, count: inner)
                    for o in range {
                        let base = o * c * inner
                        for j in 0..<inner { m1[j] = 0; m2[j] = 0 }
                        for k in 0..<c {
                            let wk = Double(wp?[k] ?? 1)
                            for j in 0..<inner {
                                let i = base + k * inner + j
                                let dh = Double(gp[i]) * wk
                                m1[j] += dh; m2[j] += dh * Double(xh[i])
                            }
                        }
                        for j in 0..<inner { m1[j] /= Double(c); m2[j] /= Double(c) }
                        for k in 0..<c {
                            let wk = Double(wp?[k] ?? 1)
                            for j in 0..<inner {
                                let i = base + k * inner + j
                                let dh = Double(gp[i]) * wk
                                d[i] = Float(Double(rs[o * inner + j]) * (dh - m1[j] - Double(xh[i]) * m2[j]))
                            }
                        }
                    }
                }
                gx = t
            }
            var gw: Tensor? = nil, gb: Tensor? = nil
            if let weight, weight.requiresGrad {
                let t = Tensor(zeros: [c])
                for o in 0..<outer { for k in 0..<c {
                    var acc: Double = 0
                    let base = (o * c + k) * inner
                    for j in 0..<inner { acc += Double(gp[base + j]) * Double(xh[base + j]) }
                    t.data[k] += Float(acc)
                } }
                gw = t.reshaped(weight.shape)
            }
            if let bias, bias.requiresGrad {
                let t = Tensor(zeros: [c])
                for o in 0..<outer { for k in 0..<c {
                    var acc: Double = 0
                    let base = (o * c + k) * inner
                    for j in 0..<inner { acc += Double(gp[base + j]) }
                    t.data[k] += Float(acc)
                } }
                gb = t.reshaped(bias.shape)
            }
            var result: [Tensor?] = [gx]
            if weight != nil { result.append(gw) }
            if bias != nil { result.append(gb) }
            return result
        }
    }

    /// `nn.BatchNorm2d`: self [N, C, H, W]. Training: batch statistics (biased variance to normalise),
    /// running stats updated in place with `momentum` and the unbiased variance. Eval: running statistics.
    public func batchNorm2d(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                            training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
        precondition(rank == 4 && weight.count == shape[1], "batch_norm2d: input \(shape) vs weight \(weight.shape)")
        let (n, c) = (shape[0], shape[1]), hw = shape[2] * shape[3]
        let m = n * hw
        var mean = [Float](repeating: 0, count: c), rstd = [Float](repeating: 0, count: c)
        let x = data
        if training {
            // Per-channel statistics in parallel over channels (Double sums), then the running-stat update.
            let stats = TensorStorage(count: 3 * c, zeroed: false)
            let sp = stats.base
            Parallel.forRange(c, costPerItem: 2 * m) { chans in
                for k in chans {
                    var s: Double = 0, s2: Double = 0
                    for b in 0..<n { let p = x + (b * c + k) * hw; for j in 0..<hw { s += Double(p[j]) } }
                    let mu = s / Double(m)
                    for b in 0..<n { let p = x + (b * c + k) * hw; for j in 0..<hw { let d = Double(p[j]) - mu; s2 += d * d } }
                    let varB = s2 / Double(m)
                    sp[k] = Float(mu)
                    sp[c + k] = Float(1 / (varB + Double(eps)).squareRoot())
                    sp[2 * c + k] = Float(m > 1 ? s2 / Double(m - 1) : varB)
                }
            }
            for k in 0..<c {
                mean[k] = sp[k]
                rstd[k] = sp[c + k]
                runningMean.data[k] = (1 - momentum) * runningMean.data[k] + momentum * sp[k]
                runningVar.data[k] = (1 - momentum) * runningVar.data[k] + momentum * sp[2 * c + k]
            }
        } else {
            for k in 0..<c {
                mean[k] = runningMean.data[k]
                rstd[k] = Float(1 / (Double(runningVar.data[k]) + Double(eps)).squareRoot())
            }
        }
        let out = Tensor(zeros: shape, zeroed: false)
        let y = out.data
        let meanC = mean, rstdC = rstd
        Parallel.forRange(n * c, costPerItem: hw) { planes in
            for p in planes {
                let k = p % c
                let sc = rstdC[k] * weight.data[k], sh = bias.data[k] - meanC[k] * sc
                let s = x + p * hw, d = y + p * hw
                for j in 0..<hw { d[j] = s[j] * sc + sh }
            }
        }
        let input = self
        return out.recording("batch_norm2d", [input, weight, bias]) { g in
            let gp = g.data
            // Per-channel sums of g and g * xhat in parallel over channels (Double), then dx per plane.
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c)
            defer { sums.deallocate() }
            let xin = input.data, wt = weight.data
            Parallel.forRange(c, costPerItem: 2 * m) { chans in
                for k in chans {
                    var a: Double = 0, bb: Double = 0
                    let mu = meanC[k], r = rstdC[k]
                    for b in 0..<n {
                        let gq = gp + (b * c + k) * hw, xq = xin + (b * c + k) * hw
                        for j in 0..<hw { a += Double(gq[j]); bb += Double(gq[j]) * Double((xq[j] - mu) * r) }
                    }
                    sums[k] = a; sums[c + k] = bb
                }
            }
            var gx: Tensor? = nil
            if input.requiresGrad {
                let t = Tensor(zeros: input.shape, zeroed: false)
                let dp = t.data
                Parallel.forRange(n * c, costPerItem: 4 * hw) { planes in
                    for plane in planes {
                        let k = plane % c
                        let gq = gp + plane * hw, xq = xin + plane * hw, d = dp + plane * hw
                        let wr = wt[k] * rstdC[k], mu = meanC[k], r = rstdC[k]
                        if training {
                            let mg = Float(sums[k] / Double(m)), mgx = Float(sums[c + k] / Double(m))
                            for j in 0..<hw { d[j] = wr * (gq[j] - mg - (xq[j] - mu) * r * mgx) }
                        } else {
                            for j in 0..<hw { d[j] = wr * gq[j] }
                        }
                    }
                }
                gx = t
            }
            let gw = weight.requiresGrad ? Tensor(shape: weight.shape, values: (0..<c).map { Float(sums[c + $0]) }) : nil
            let gb = bias.requiresGrad ? Tensor(shape: bias.shape, values: (0..<c).map { Float(sums[$0]) }) : nil
            return [gx, gw, gb]
        }
    }
}
