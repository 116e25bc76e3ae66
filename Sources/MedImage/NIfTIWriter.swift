import Foundation

/// Integer types for label volumes written as NIfTI.
public enum NIfTILabelType: Sendable, Equatable {
    /// datatype 2, values 0...255.
    case uint8
    /// datatype 4, values -32768...32767.
    case int16
}

extension NIfTI {
    /// Writes a 3-D label volume as a gzip-compressed little-endian NIfTI-1 file (`.nii.gz`), atomically (encoded
    /// in memory, written to a temporary file, then renamed: an error never leaves a partial file).
    ///
    /// Geometry: the sform is `volume.affine` (stored as float32); the qform is the same matrix decomposed into
    /// quaternion, qfac (pixdim[0]), pixdim[1...3] and qoffset as `nifti_mat44_to_quatern` does. Values are rounded
    /// to the nearest integer and clamped to the type's range. Only volume 0 of a 4-D input is written.
    /// - Parameters:
    ///   - qformCode, sformCode: NIfTI xform codes (1 scanner, 2 aligned, 3 Talairach, 4 MNI); pass the source
    ///     header's codes to keep them.
    public static func writeLabelVolume(_ volume: Volume, to url: URL, type: NIfTILabelType = .uint8,
                                        qformCode: Int = 1, sformCode: Int = 1) throws(MedImageError)
    {
        let name = MedImageError.label(for: url)
        let data = try encodeLabelVolume(volume, type: type, qformCode: qformCode, sformCode: sformCode, name: name)
        let packed = try Gzip.deflateGzip(data, file: name)
        try writeFileAtomically(packed, to: url)
    }

    /// The uncompressed `.nii` bytes of `writeLabelVolume` (348-byte header, 4 zero extension bytes, voxels).
    public static func encodeLabelVolume(_ volume: Volume, type: NIfTILabelType = .uint8, qformCode: Int = 1,
                                         sformCode: Int = 1, name: String = "<nifti>") throws(MedImageError) -> Data
    {
        let n = volume.voxelsPerVolume
        let bytesPer = type == .uint8 ? 1 : 2
        var out = [UInt8](repeating: 0, count: 352 + n * bytesPer)
        func put<T: FixedWidthInteger>(_ v: T, _ o: Int) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { out[o + i] = b } }
        }
        func putF(_ v: Double, _ o: Int) { put(Float(v).bitPattern, o) }
        put(Int32(348), 0)
        let dims = [3, volume.nx, volume.ny, volume.nz, 1, 1, 1, 1]
        guard dims.allSatisfy({ $0 <= Int(Int16.max) }) else {
            throw MedImageError(file: name, kind: .invalidArgument, "volume too large for NIfTI-1 (dimension > 32767)")
        }
        for (i, d) in dims.enumerated() { put(Int16(d), 40 + 2 * i) }
        put(Int16(type == .uint8 ? 2 : 4), 70)
        put(Int16(bytesPer * 8), 72)
        let q = quaternion(of: volume.affine)
        let pixdim = [q.qfac, q.spacing.x, q.spacing.y, q.spacing.z, 1, 1, 1, 1]
        for (i, v) in pixdim.enumerated() { putF(v, 76 + 4 * i) }
        putF(352, 108)  // vox_offset
        putF(1, 112)  // scl_slope
        putF(0, 116)  // scl_inter
        out[123] = 2  // xyzt_units: mm
        let descrip = Array("MedImage label map".utf8)
        for (i, b) in descrip.enumerated() { out[148 + i] = b }
        put(Int16(qformCode), 252)
        put(Int16(sformCode), 254)
        putF(q.b, 256)
        putF(q.c, 260)
        putF(q.d, 264)
        putF(volume.affine[0, 3], 268)
        putF(volume.affine[1, 3], 272)
        putF(volume.affine[2, 3], 276)
        for r in 0..<3 {
            for c in 0..<4 { putF(volume.affine[r, c], 280 + 16 * r + 4 * c) }
        }
        out[344] = UInt8(ascii: "n")
        out[345] = UInt8(ascii: "+")
        out[346] = UInt8(ascii: "1")
        volume.voxels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let v = src[i].isNaN ? 0 : src[i].rounded(.toNearestOrAwayFromZero)
                    if type == .uint8 {
                        dst[352 + i] = UInt8(min(max(v, 0), 255))
                    } else {
                        let s = UInt16(bitPattern: Int16(min(max(v, -32768), 32767)))
                        dst[352 + 2 * i] = UInt8(s & 0xFF)
                        dst[353 + 2 * i] = UInt8(s >> 8)
                    }
                }
            }
        }
        return Data(out)
    }

    /// `nifti_mat44_to_quatern`: quaternion (b, c, d), qfac and voxel sizes of the rotation part of `m`.
    static func quaternion(of m: Matrix4) -> (b: Double, c: Double, d: Double, qfac: Double, spacing: SIMD3<Double>) {
        var cols = (0..<3).map { m.column3($0) }
        var sizes = [Double](repeating: 1, count: 3)
        for i in 0..<3 {
            let n = (cols[i] * cols[i]).sum().squareRoot()
            if n > 0 {
                sizes[i] = n
                cols[i] /= n
            } else {
                var unit = SIMD3<Double>(0, 0, 0)
                unit[i] = 1
                cols[i] = unit
            }
        }
        let det = cols[0].x * (cols[1].y * cols[2].z - cols[2].y * cols[1].z)
            - cols[1].x * (cols[0].y * cols[2].z - cols[2].y * cols[0].z)
            + cols[2].x * (cols[0].y * cols[1].z - cols[1].y * cols[0].z)
        var qfac = 1.0
        if det < 0 {
            qfac = -1
            cols[2] = -cols[2]
        }
        let (r11, r21, r31) = (cols[0].x, cols[0].y, cols[0].z)
        let (r12, r22, r32) = (cols[1].x, cols[1].y, cols[1].z)
        let (r13, r23, r33) = (cols[2].x, cols[2].y, cols[2].z)
        var a = r11 + r22 + r33 + 1
        var b = 0.0, c = 0.0, d = 0.0
        if a > 0.5 {
            a = 0.5 * a.squareRoot()
            b = 0.25 * (r32 - r23) / a
            c = 0.25 * (r13 - r31) / a
            d = 0.25 * (r21 - r12) / a
        } else {
            let xd = 1 + r11 - (r22 + r33)
            let yd = 1 + r22 - (r11 + r33)
            let zd = 1 + r33 - (r11 + r22)
            if xd > 1 {
                b = 0.5 * xd.squareRoot()
                c = 0.25 * (r12 + r21) / b
                d = 0.25 * (r13 + r31) / b
                a = 0.25 * (r32 - r23) / b
            } else if yd > 1 {
                c = 0.5 * yd.squareRoot()
                b = 0.25 * (r12 + r21) / c
                d = 0.25 * (r23 + r32) / c
                a = 0.25 * (r13 - r31) / c
            } else {
                d = 0.5 * zd.squareRoot()
                b = 0.25 * (r13 + r31) / d
                c = 0.25 * (r23 + r32) / d
                a = 0.25 * (r21 - r12) / d
            }
            if a < 0 {
                b = -b
                c = -c
                d = -d
            }
        }
        return (b, c, d, qfac, SIMD3(sizes[0], sizes[1], sizes[2]))
    }
}
