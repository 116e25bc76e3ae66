import Foundation

/// A NIfTI file: its header and its voxels.
public struct NIfTIImage: Sendable, Equatable {
    public var header: NIfTIHeader
    /// All volumes (`nt = dim[4] * dim[5] * ...`), scaled with scl_slope/scl_inter when the slope is finite and
    /// non-zero (nibabel's rule), with `header.affine` as geometry and `|pixdim[1...3]|` as spacing.
    public var volume: Volume
}

/// NIfTI-1 and NIfTI-2 reading (`.nii`, `.nii.gz`, either byte order).
public enum NIfTI {
    /// Reads a `.nii` or `.nii.gz` file (gzip is detected from the content, not the name).
    public static func read(_ url: URL) throws(MedImageError) -> NIfTIImage {
        try decode(readFileData(url), name: MedImageError.label(for: url))
    }

    /// Reads only the volume (all time points).
    public static func readVolume(_ url: URL) throws(MedImageError) -> Volume { try read(url).volume }

    /// Decodes NIfTI bytes (optionally gzip-compressed). `name` is used in error messages.
    public static func decode(_ fileData: Data, name: String) throws(MedImageError) -> NIfTIImage {
        let data = Gzip.isGzip(fileData) ? try Gzip.inflate(fileData, file: name) : fileData
        return try withBytes(data) { (raw: UnsafeRawBufferPointer) throws(MedImageError) -> NIfTIImage in
            let header = try parseHeader(raw, name: name)
            guard let type = header.sampleType else {
                throw MedImageError(file: name, kind: .unsupported,
                                    "unsupported NIfTI datatype \(NIfTIHeader.datatypeName(header.datatype))")
            }
            let ndim = header.dim[0]
            let sizes = (1...7).map { $0 <= ndim ? header.dim[$0] : 1 }
            guard let total = checkedProduct(sizes), total < (1 << 40) / type.size else {
                throw MedImageError(file: name, kind: .corrupt, "invalid NIfTI dimensions \(Array(header.dim[1...ndim]))")
            }
            let byteCount = total * type.size
            let offset = header.voxOffset
            guard offset >= 0, offset <= raw.count, raw.count - offset >= byteCount else {
                let found = max(0, raw.count - offset)
                throw MedImageError(file: name, kind: .truncated,
                                    "truncated: expected \(byteCount) bytes of voxel data after vox_offset \(offset), found \(found)")
            }
            var voxels = [Float](repeating: 0, count: total)
            voxels.withUnsafeMutableBufferPointer { out in
                type.decode(raw, offset: offset, count: total, littleEndian: header.littleEndian, into: out)
            }
            let slope = header.sclSlope
            if slope.isFinite && slope != 0 && !(slope == 1 && (header.sclInter == 0 || header.sclInter.isNaN)) {
                let s = Float(slope)
                let b = Float(header.sclInter.isFinite ? header.sclInter : 0)
                voxels.withUnsafeMutableBufferPointer { p in
                    for i in 0..<p.count { p[i] = p[i] * s + b }
                }
            }
            let spacing = SIMD3((1...3).map { abs(header.pixdim[$0]) == 0 ? 1 : abs(header.pixdim[$0]) })
            let volume = Volume(unchecked: sizes[0], sizes[1], sizes[2], total / (sizes[0] * sizes[1] * sizes[2]),
                                voxels, spacing: SIMD3(spacing[0], spacing[1], spacing[2]), affine: header.affine)
            return NIfTIImage(header: header, volume: volume)
        }
    }

    /// Parses the header of a NIfTI-1 (348 bytes) or NIfTI-2 (540 bytes) file in either byte order.
    static func parseHeader(_ raw: UnsafeRawBufferPointer, name: String) throws(MedImageError) -> NIfTIHeader {
        guard raw.count >= 348 else {
            throw MedImageError(file: name, kind: .truncated, "file too short for a NIfTI header (\(raw.count) bytes)")
        }
        var r = ByteReader(raw, littleEndian: true)
        var size = r.i32(0) ?? 0
        if size != 348 && size != 540 {
            r.littleEndian = false
            size = r.i32(0) ?? 0
        }
        if size == 348 {
            guard let magic = r.string(344, 4), magic == "n+1" || magic == "ni1" else {
                throw MedImageError(file: name, kind: .corrupt, "not a NIfTI-1 file (bad magic)")
            }
            guard magic == "n+1" else {
                throw MedImageError(file: name, kind: .unsupported,
                                    "NIfTI-1 header/image pair (.hdr/.img, magic ni1) is not supported; use a single .nii")
            }
            let dim = (0..<8).map { Int(r.i16(40 + 2 * $0)!) }
            let pixdim = (0..<8).map { Double(r.f32(76 + 4 * $0)!) }
            let voxOffset = Double(r.f32(108)!)
            guard voxOffset.isFinite, voxOffset >= 0, voxOffset < 1e12 else {
                throw MedImageError(file: name, kind: .corrupt, "invalid vox_offset \(voxOffset)")
            }
            let header = NIfTIHeader(
                version: 1, littleEndian: r.littleEndian, dim: dim, datatype: Int(r.i16(70)!), bitpix: Int(r.i16(72)!),
                pixdim: pixdim, voxOffset: max(Int(voxOffset), 352), sclSlope: Double(r.f32(112)!),
                sclInter: Double(r.f32(116)!), qformCode: Int(r.i16(252)!), sformCode: Int(r.i16(254)!),
                quaternion: SIMD3(Double(r.f32(256)!), Double(r.f32(260)!), Double(r.f32(264)!)),
                qoffset: SIMD3(Double(r.f32(268)!), Double(r.f32(272)!), Double(r.f32(276)!)),
                srow: (0..<12).map { Double(r.f32(280 + 4 * $0)!) }, xyztUnits: Int(r.u8(123)!),
                descrip: r.string(148, 80) ?? "")
            try validate(header, name: name)
            return header
        }
        guard size == 540 else {
            throw MedImageError(file: name, kind: .corrupt, "not a NIfTI file (sizeof_hdr is neither 348 nor 540)")
        }
        guard raw.count >= 540 else {
            throw MedImageError(file: name, kind: .truncated, "file too short for a NIfTI-2 header (\(raw.count) bytes)")
        }
        guard let magic = r.string(4, 3), magic == "n+2" || magic == "ni2" else {
            throw MedImageError(file: name, kind: .corrupt, "not a NIfTI-2 file (bad magic)")
        }
        guard magic == "n+2" else {
            throw MedImageError(file: name, kind: .unsupported, "NIfTI-2 header/image pair (ni2) is not supported")
        }
        let dim64 = (0..<8).map { r.i64(16 + 8 * $0)! }
        guard dim64.allSatisfy({ $0 >= -1 && $0 < (1 << 40) }) else {
            throw MedImageError(file: name, kind: .corrupt, "invalid NIfTI-2 dimensions")
        }
        let vox = r.i64(168)!
        guard vox >= 0, vox < (1 << 40) else { throw MedImageError(file: name, kind: .corrupt, "invalid vox_offset \(vox)") }
        let header = NIfTIHeader(
            version: 2, littleEndian: r.littleEndian, dim: dim64.map { Int($0) }, datatype: Int(r.i16(12)!),
            bitpix: Int(r.i16(14)!), pixdim: (0..<8).map { r.f64(104 + 8 * $0)! }, voxOffset: max(Int(vox), 544),
            sclSlope: r.f64(176)!, sclInter: r.f64(184)!, qformCode: Int(r.i32(344)!), sformCode: Int(r.i32(348)!),
            quaternion: SIMD3(r.f64(352)!, r.f64(360)!, r.f64(368)!), qoffset: SIMD3(r.f64(376)!, r.f64(384)!, r.f64(392)!),
            srow: (0..<12).map { r.f64(400 + 8 * $0)! }, xyztUnits: Int(r.i32(500)!), descrip: r.string(240, 80) ?? "")
        try validate(header, name: name)
        return header
    }

    private static func validate(_ h: NIfTIHeader, name: String) throws(MedImageError) {
        guard (1...7).contains(h.dim[0]) else {
            throw MedImageError(file: name, kind: .corrupt, "invalid NIfTI dim[0] = \(h.dim[0])")
        }
        for i in 1...h.dim[0] where h.dim[i] <= 0 {
            throw MedImageError(file: name, kind: .corrupt, "invalid NIfTI dim[\(i)] = \(h.dim[i])")
        }
    }
}
