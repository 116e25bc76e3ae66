/// A 4x4 matrix of Double, row-major: `m[r * 4 + c]`. Used for voxel-to-world affines:
/// `world = A * [i, j, k, 1]`.
public struct Matrix4: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 16 entries, row-major.
    public var m: [Double]

    public init(rows: [[Double]]) {
        var entries = [Double](repeating: 0, count: 16)
        for r in 0..<min(4, rows.count) {
            for c in 0..<min(4, rows[r].count) { entries[r * 4 + c] = rows[r][c] }
        }
        m = entries
    }

    public init(rowMajor entries: [Double]) {
        var e = Array(entries.prefix(16))
        while e.count < 16 { e.append(0) }
        m = e
    }

    public static let identity = Matrix4(rowMajor: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])

    public subscript(r: Int, c: Int) -> Double {
        get { m[r * 4 + c] }
        set { m[r * 4 + c] = newValue }
    }

    /// Rows as nested arrays (handy for JSON comparisons).
    public var rows: [[Double]] { (0..<4).map { r in (0..<4).map { c in m[r * 4 + c] } } }

    public static func * (a: Matrix4, b: Matrix4) -> Matrix4 {
        var out = [Double](repeating: 0, count: 16)
        for r in 0..<4 {
            for c in 0..<4 {
                var s = 0.0
                for k in 0..<4 { s += a.m[r * 4 + k] * b.m[k * 4 + c] }
                out[r * 4 + c] = s
            }
        }
        return Matrix4(rowMajor: out)
    }

    /// Applies the affine to a point: `(A * [p, 1]).xyz`.
    public func apply(_ p: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(m[0] * p.x + m[1] * p.y + m[2] * p.z + m[3],
              m[4] * p.x + m[5] * p.y + m[6] * p.z + m[7],
              m[8] * p.x + m[9] * p.y + m[10] * p.z + m[11])
    }

    /// Column `c` of the upper 3x3 block (the world step of one voxel along index axis c).
    public func column3(_ c: Int) -> SIMD3<Double> { SIMD3(m[c], m[4 + c], m[8 + c]) }

    /// Translation part (world position of voxel (0, 0, 0)).
    public var translation: SIMD3<Double> { SIMD3(m[3], m[7], m[11]) }

    /// Converts between RAS+ (NIfTI) and LPS (DICOM/ITK) world coordinates: `diag(-1, -1, 1, 1) * self`.
    /// The conversion is its own inverse.
    public var flippedLR_AP: Matrix4 {
        var out = self
        for c in 0..<4 {
            out.m[c] = -m[c]
            out.m[4 + c] = -m[4 + c]
        }
        return out
    }

    /// Largest absolute entry-wise difference.
    public func maxAbsDifference(_ other: Matrix4) -> Double {
        var d = 0.0
        for i in 0..<16 { d = max(d, abs(m[i] - other.m[i])) }
        return d
    }

    public var description: String {
        rows.map { "[" + $0.map { String($0) }.joined(separator: ", ") + "]" }.joined(separator: " ")
    }
}
