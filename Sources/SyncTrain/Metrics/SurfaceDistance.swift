import MedImage

/// Boundary-based metrics in millimetres (SPEC 7): normalized surface Dice (NSD) at a tolerance and the 95th
/// percentile Hausdorff distance (HD95), with anisotropic pixel spacing.
///
/// Conventions (those of MONAI / DeepMind `surface-distance`, pixel version):
/// - the surface of a mask is its foreground pixels with at least one 4-neighbour in the background or outside the
///   image (the mask minus its binary erosion by a 3x3 cross, scipy's default);
/// - d(a, ∂B) is the Euclidean distance, in mm, from pixel a to the nearest surface pixel of B (exact distance
///   transform, Felzenszwalb-Huttenlocher);
/// - `NSD(τ) = (#{a ∈ ∂P : d(a, ∂G) <= τ} + #{g ∈ ∂G : d(g, ∂P) <= τ}) / (|∂P| + |∂G|)`;
/// - `HD95 = max(P95{d(a, ∂G) : a ∈ ∂P}, P95{d(g, ∂P) : g ∈ ∂G})`, percentiles with linear interpolation (NumPy).
/// Empty masks: both empty gives NSD 1 and HD95 0; exactly one empty gives NSD 0 and HD95 nil (undefined, to be
/// excluded from means and counted separately).
public enum SurfaceMetrics {
    /// Indices (y * width + x) of the surface pixels of `mask`.
    public static func surface(of mask: BinaryMask) -> [Int] {
        let w = mask.width, h = mask.height
        var out: [Int] = []
        mask.values.withUnsafeBufferPointer { px in
            for y in 0..<h {
                for x in 0..<w where px[y * w + x] != 0 {
                    let i = y * w + x
                    if x == 0 || y == 0 || x == w - 1 || y == h - 1 || px[i - 1] == 0 || px[i + 1] == 0
                        || px[i - w] == 0 || px[i + w] == 0 { out.append(i) }
                }
            }
        }
        return out
    }

    /// For every pixel, the distance in mm to the nearest of `sites` (pixel indices); +infinity when `sites` is empty.
    public static func distanceTransform(sites: [Int], width: Int, height: Int, spacing: PixelSpacing) -> [Double] {
        var f = [Double](repeating: .infinity, count: width * height)
        for s in sites { f[s] = 0 }
        var line = [Double](repeating: 0, count: max(width, height))
        var out = [Double](repeating: 0, count: max(width, height))
        // Columns (along y), then rows (along x), on squared distances.
        for x in 0..<width {
            for y in 0..<height { line[y] = f[y * width + x] }
            squaredDistance1D(line, count: height, step: spacing.y, into: &out)
            for y in 0..<height { f[y * width + x] = out[y] }
        }
        for y in 0..<height {
            for x in 0..<width { line[x] = f[y * width + x] }
            squaredDistance1D(line, count: width, step: spacing.x, into: &out)
            for x in 0..<width { f[y * width + x] = out[x].squareRoot() }
        }
        return f
    }

    /// Lower envelope of parabolas (Felzenszwalb & Huttenlocher 2012) with sample positions `i * step`:
    /// `out[p] = min_q ((p - q)^2 step^2 + f[q])`, over the finite `f[q]` only.
    static func squaredDistance1D(_ f: [Double], count n: Int, step: Double, into out: inout [Double]) {
        var v = [Int](), z = [Double]()
        v.reserveCapacity(n); z.reserveCapacity(n + 1)
        for q in 0..<n where f[q].isFinite {
            let pq = Double(q) * step
            var s = -Double.infinity
            // Drop parabolas hidden by the new one; z[k] is where parabola v[k] starts to be the minimum.
            while let last = v.last {
                let pv = Double(last) * step
                s = ((f[q] + pq * pq) - (f[last] + pv * pv)) / (2 * (pq - pv))
                if s <= z[z.count - 1] { v.removeLast(); z.removeLast() } else { break }
            }
            if v.isEmpty { s = -.infinity }
            v.append(q); z.append(s)
        }
        guard !v.isEmpty else {
            for p in 0..<n { out[p] = .infinity }
            return
        }
        var k = 0
        for p in 0..<n {
            let pp = Double(p) * step
            while k + 1 < v.count && z[k + 1] < pp { k += 1 }
            let d = pp - Double(v[k]) * step
            out[p] = d * d + f[v[k]]
        }
    }

    /// Distances from each surface pixel of `a` to the surface of `b`, in mm (directed surface distances).
    public static func directedSurfaceDistances(from a: BinaryMask, to b: BinaryMask, spacing: PixelSpacing) -> [Double] {
        let dt = distanceTransform(sites: surface(of: b), width: b.width, height: b.height, spacing: spacing)
        return surface(of: a).map { dt[$0] }
    }

    /// Normalized surface Dice at `tolerance` mm.
    public static func nsd(_ prediction: BinaryMask, _ target: BinaryMask, tolerance: Double,
                           spacing: PixelSpacing = PixelSpacing(x: 1, y: 1)) -> Double {
        let dp = directedSurfaceDistances(from: prediction, to: target, spacing: spacing)
        let dg = directedSurfaceDistances(from: target, to: prediction, spacing: spacing)
        if dp.isEmpty && dg.isEmpty { return 1 }
        let within = dp.filter { $0 <= tolerance }.count + dg.filter { $0 <= tolerance }.count
        return Double(within) / Double(dp.count + dg.count)
    }

    /// 95th percentile Hausdorff distance in mm (`percentile` selectable); nil when exactly one mask is empty.
    public static func hd95(_ prediction: BinaryMask, _ target: BinaryMask,
                            spacing: PixelSpacing = PixelSpacing(x: 1, y: 1), percentile: Double = 95) -> Double? {
        let dp = directedSurfaceDistances(from: prediction, to: target, spacing: spacing)
        let dg = directedSurfaceDistances(from: target, to: prediction, spacing: spacing)
        if dp.isEmpty && dg.isEmpty { return 0 }
        if dp.isEmpty || dg.isEmpty { return nil }
        return max(Self.percentile(dp, percentile), Self.percentile(dg, percentile))
    }

    /// NumPy's default (linear) percentile of `values` (non-empty), `q` in 0...100.
    public static func percentile(_ values: [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty, "percentile of no values")
        let s = values.sorted()
        let pos = q / 100 * Double(s.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (pos - Double(lo)) * (s[hi] - s[lo])
    }
}
