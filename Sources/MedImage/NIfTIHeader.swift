/// The fields of a NIfTI-1 or NIfTI-2 header that MedImage uses, as stored on disk (before any scaling rule).
public struct NIfTIHeader: Sendable, Equatable {
    /// 1 (348-byte header, magic `n+1`) or 2 (540-byte header, magic `n+2`).
    public var version: Int
    public var littleEndian: Bool
    /// `dim[0...7]`: dim[0] is the number of dimensions, dim[1...] the sizes.
    public var dim: [Int]
    /// NIfTI datatype code (2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8, 512 uint16, 768 uint32,
    /// 1024 int64, 1280 uint64).
    public var datatype: Int
    public var bitpix: Int
    /// `pixdim[0...7]`; pixdim[0] is qfac (the handedness sign of the qform).
    public var pixdim: [Double]
    public var voxOffset: Int
    public var sclSlope: Double
    public var sclInter: Double
    public var qformCode: Int
    public var sformCode: Int
    /// Quaternion (b, c, d) of the qform.
    public var quaternion: SIMD3<Double>
    public var qoffset: SIMD3<Double>
    /// Rows x, y, z of the sform (3 x 4, row-major).
    public var srow: [Double]
    public var xyztUnits: Int
    public var descrip: String

    /// Sample type of the datatype code, nil for unsupported codes (complex, RGB, float128).
    public var sampleType: SampleType? {
        switch datatype {
        case 2: .uint8
        case 4: .int16
        case 8: .int32
        case 16: .float32
        case 64: .float64
        case 256: .int8
        case 512: .uint16
        case 768: .uint32
        case 1024: .int64
        case 1280: .uint64
        default: nil
        }
    }

    /// Name of a datatype code for messages.
    static func datatypeName(_ code: Int) -> String {
        switch code {
        case 1: "binary"
        case 32: "complex64"
        case 128: "RGB24"
        case 1536: "float128"
        case 1792: "complex128"
        case 2048: "complex256"
        case 2304: "RGBA32"
        default: "code \(code)"
        }
    }

    /// The qform matrix (quaternion + pixdim + qoffset) as nibabel's `get_qform()` computes it; nil when
    /// `qformCode == 0`.
    public var qformAffine: Matrix4? {
        guard qformCode > 0 else { return nil }
        return Self.quaternionAffine(quaternion, offset: qoffset, pixdim: pixdim, singlePrecision: version == 1)
    }

    /// The sform matrix from `srow_x/y/z`; nil when `sformCode == 0`.
    public var sformAffine: Matrix4? {
        guard sformCode > 0 else { return nil }
        return Matrix4(rowMajor: srow + [0, 0, 0, 1])
    }

    /// nibabel's choice: the sform if sform_code > 0, else the qform if qform_code > 0, else the pixdim-only
    /// "base affine" (x flipped, centred on the volume).
    public var affine: Matrix4 {
        if let s = sformAffine { return s }
        if let q = qformAffine { return q }
        let n = (1...3).map { Double(dim.count > $0 && dim[0] >= $0 ? max(dim[$0], 1) : 1) }
        let z = (1...3).map { pixdim[$0] == 0 ? 1.0 : pixdim[$0] }
        let zooms = [-z[0], z[1], z[2]]
        var m = Matrix4.identity
        for a in 0..<3 {
            m[a, a] = zooms[a]
            m[a, 3] = -(n[a] - 1) / 2 * zooms[a]
        }
        return m
    }

    /// nibabel computes the quaternion's real part in the header's precision (`fillpositive` on float32 fields
    /// for NIfTI-1), so a nearly-unit (b, c, d) gives a = 0 there, not the tiny positive value Double would give.
    static func quaternionAffine(_ q: SIMD3<Double>, offset: SIMD3<Double>, pixdim: [Double],
                                 singlePrecision: Bool) -> Matrix4
    {
        let (b, c, d) = (q.x, q.y, q.z)
        let a: Double
        if singlePrecision {
            let (fb, fc, fd) = (Float(b), Float(c), Float(d))
            let w2: Float = 1 - (fb * fb + fc * fc + fd * fd)
            a = w2 > 0 ? Double(w2.squareRoot()) : 0
        } else {
            let w2 = 1 - (b * b + c * c + d * d)
            a = w2 > 0 ? w2.squareRoot() : 0
        }
        // nibabel quat2mat: normalised rotation from (a, b, c, d).
        let nq = a * a + b * b + c * c + d * d
        let s = nq < 1e-300 ? 0 : 2 / nq
        let (x, y, z) = (b * s, c * s, d * s)
        let (wX, wY, wZ) = (a * x, a * y, a * z)
        let (xX, xY, xZ) = (b * x, b * y, b * z)
        let (yY, yZ, zZ) = (c * y, c * z, d * z)
        var r: [[Double]] = [[1 - (yY + zZ), xY - wZ, xZ + wY],
                             [xY + wZ, 1 - (xX + zZ), yZ - wX],
                             [xZ - wY, yZ + wX, 1 - (xX + yY)]]
        if nq < 1e-300 { r = [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }
        let qfac = pixdim[0] < 0 ? -1.0 : 1.0
        let zooms = [pixdim[1], pixdim[2], pixdim[3] * qfac]
        var m = Matrix4.identity
        for i in 0..<3 {
            for j in 0..<3 { m[i, j] = r[i][j] * zooms[j] }
        }
        m[0, 3] = offset.x
        m[1, 3] = offset.y
        m[2, 3] = offset.z
        return m
    }
}
