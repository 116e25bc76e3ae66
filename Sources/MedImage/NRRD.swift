import Foundation

/// The NRRD header fields MedImage uses.
public struct NRRDHeader: Sendable, Equatable {
    /// All `key: value` fields, keys lower-cased.
    public var fields: [String: String]
    public var type: SampleType
    public var sizes: [Int]
    /// `space` field, e.g. `left-posterior-superior`; nil when absent.
    public var space: String?
    /// One per axis; nil for non-spatial axes (`none`) or when absent.
    public var spaceDirections: [SIMD3<Double>?]
    public var spaceOrigin: SIMD3<Double>?
    public var spacings: [Double]?
    public var encoding: String
    public var littleEndian: Bool
    /// Bytes before the data (the header, including the blank line).
    public var headerLength: Int
}

/// NRRD reading: attached header (`.nrrd`), raw / gzip / ascii encodings, 2-D and 3-D (plus a trailing
/// non-spatial axis as volumes).
public enum NRRD {
    public static func read(_ url: URL) throws(MedImageError) -> (header: NRRDHeader, volume: Volume) {
        try decode(readFileData(url), name: MedImageError.label(for: url))
    }

    /// Decodes NRRD bytes. Geometry: `space directions` (columns) and `space origin` give the index-to-world
    /// matrix in the file's space, converted to RAS+ for `Volume.affine` (LPS and LAS are flipped accordingly);
    /// without directions `spacings` (else 1) make a diagonal LPS matrix.
    public static func decode(_ data: Data, name: String) throws(MedImageError) -> (header: NRRDHeader, volume: Volume) {
        let header = try parseHeader(data, name: name)
        let n = header.sizes.count
        guard let total = checkedProduct(header.sizes), total < (1 << 36) else {
            throw MedImageError(file: name, kind: .corrupt, "invalid NRRD sizes \(header.sizes)")
        }
        let byteCount = total * header.type.size
        let body = data.subdata(in: (data.startIndex + header.headerLength)..<data.endIndex)
        var voxels = [Float](repeating: 0, count: total)
        switch header.encoding {
        case "raw", "gzip", "gz":
            var payload = body
            if header.encoding != "raw" { payload = try Gzip.inflate(body, file: name) }
            var skip = Int(header.fields["byte skip"] ?? "0") ?? 0
            if skip == -1 { skip = max(0, payload.count - byteCount) }
            guard skip >= 0, payload.count - skip >= byteCount else {
                throw MedImageError(file: name, kind: .truncated,
                                    "truncated: expected \(byteCount) bytes of NRRD data, found \(max(0, payload.count - skip))")
            }
            payload.withUnsafeBytes { raw in
                voxels.withUnsafeMutableBufferPointer { out in
                    header.type.decode(raw, offset: skip, count: total, littleEndian: header.littleEndian, into: out)
                }
            }
        case "ascii", "text", "txt":
            let text = String(decoding: body, as: UTF8.self)
            var i = 0
            for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "," }) {
                guard i < total else { break }
                guard let v = Float(token) else {
                    throw MedImageError(file: name, kind: .corrupt, "invalid number '\(token.prefix(20))' in ASCII NRRD data")
                }
                voxels[i] = v
                i += 1
            }
            guard i == total else {
                throw MedImageError(file: name, kind: .truncated, "truncated: expected \(total) ASCII values, found \(i)")
            }
        default:
            throw MedImageError(file: name, kind: .unsupported, "unsupported NRRD encoding '\(header.encoding)'")
        }
        // Spatial axes first; one trailing non-spatial axis becomes volumes.
        var spatial = header.sizes
        var nt = 1
        if n == 4 || (n == 3 && header.spaceDirections.count == 3 && header.spaceDirections[2] == nil) {
            guard header.spaceDirections.count != n || header.spaceDirections[0] != nil else {
                throw MedImageError(file: name, kind: .unsupported,
                                    "NRRD with a leading non-spatial axis (vector/colour samples) is not supported")
            }
            nt = spatial.removeLast()
        }
        while spatial.count < 3 { spatial.append(1) }
        guard spatial.count == 3 else {
            throw MedImageError(file: name, kind: .unsupported, "unsupported NRRD dimension \(n)")
        }
        var m = Matrix4.identity
        var spacing = SIMD3<Double>(1, 1, 1)
        for a in 0..<3 {
            var dir = SIMD3<Double>(0, 0, 0)
            if a < header.spaceDirections.count, let d = header.spaceDirections[a] {
                dir = d
            } else {
                let s = header.spacings.flatMap { a < $0.count && $0[a].isFinite && $0[a] > 0 ? $0[a] : nil } ?? 1
                dir[a] = s
            }
            let norm = (dir * dir).sum().squareRoot()
            spacing[a] = norm > 0 ? norm : 1
            for r in 0..<3 { m[r, a] = dir[r] }
        }
        if let o = header.spaceOrigin { for r in 0..<3 { m[r, 3] = o[r] } }
        let ras = toRAS(m, space: header.space)
        let volume = Volume(unchecked: spatial[0], spatial[1], spatial[2], nt, voxels, spacing: spacing, affine: ras)
        return (header, volume)
    }

    private static func toRAS(_ m: Matrix4, space: String?) -> Matrix4 {
        let s = (space ?? "left-posterior-superior").lowercased()
        var flip = SIMD3<Double>(-1, -1, 1)  // LPS (ITK default)
        switch s {
        case "right-anterior-superior", "ras", "scanner-xyz": flip = SIMD3(1, 1, 1)
        case "left-anterior-superior", "las": flip = SIMD3(-1, 1, 1)
        default: break
        }
        var out = m
        for r in 0..<3 {
            for c in 0..<4 { out[r, c] = m[r, c] * flip[r] }
        }
        return out
    }

    static func parseHeader(_ data: Data, name: String) throws(MedImageError) -> NRRDHeader {
        guard data.count >= 8, data.prefix(4).elementsEqual(Array("NRRD".utf8)) else {
            throw MedImageError(file: name, kind: .corrupt, "not a NRRD file (no NRRD magic)")
        }
        // Header ends at the first empty line.
        var end = -1
        let limit = min(data.count, 1 << 20)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var i = 0
            while i + 1 < limit {
                if raw[i] == 0x0A && raw[i + 1] == 0x0A { end = i + 2; return }
                if raw[i] == 0x0A && i + 2 < limit && raw[i + 1] == 0x0D && raw[i + 2] == 0x0A { end = i + 3; return }
                i += 1
            }
        }
        guard end > 0 else { throw MedImageError(file: name, kind: .truncated, "NRRD header has no terminating blank line") }
        let text = String(decoding: data.prefix(end), as: UTF8.self)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let l = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if l.isEmpty || l.hasPrefix("#") { continue }
            if l.contains(":=") { continue }  // key/value pair, not a field
            guard let r = l.range(of: ": ") ?? l.range(of: ":") else { continue }
            fields[String(l[..<r.lowerBound]).lowercased()] = String(l[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        if fields["data file"] != nil || fields["datafile"] != nil {
            throw MedImageError(file: name, kind: .unsupported, "detached NRRD data files are not supported")
        }
        guard let typeName = fields["type"], let type = sampleType(typeName) else {
            throw MedImageError(file: name, kind: .unsupported, "unsupported or missing NRRD type '\(fields["type"] ?? "")'")
        }
        guard let dimension = fields["dimension"].flatMap({ Int($0) }), (1...4).contains(dimension) else {
            throw MedImageError(file: name, kind: .unsupported, "unsupported or missing NRRD dimension '\(fields["dimension"] ?? "")'")
        }
        let sizes = (fields["sizes"] ?? "").split(separator: " ").compactMap { Int($0) }
        guard sizes.count == dimension, sizes.allSatisfy({ $0 > 0 }) else {
            throw MedImageError(file: name, kind: .corrupt, "NRRD sizes '\(fields["sizes"] ?? "")' do not match dimension \(dimension)")
        }
        var directions: [SIMD3<Double>?] = []
        if let sd = fields["space directions"] {
            for token in sd.split(separator: " ", omittingEmptySubsequences: true) {
                if token == "none" {
                    directions.append(nil)
                    continue
                }
                let nums = token.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
                    .compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard nums.count == 3 else {
                    throw MedImageError(file: name, kind: .unsupported, "unsupported NRRD space direction '\(token)'")
                }
                directions.append(SIMD3(nums[0], nums[1], nums[2]))
            }
        }
        var origin: SIMD3<Double>?
        if let so = fields["space origin"] {
            let nums = so.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
                .compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            if nums.count == 3 { origin = SIMD3(nums[0], nums[1], nums[2]) }
        }
        let spacings = fields["spacings"].map { $0.split(separator: " ").map { Double($0) ?? .nan } }
        let endian = fields["endian"] ?? "little"
        return NRRDHeader(fields: fields, type: type, sizes: sizes, space: fields["space"], spaceDirections: directions,
                          spaceOrigin: origin, spacings: spacings, encoding: (fields["encoding"] ?? "raw").lowercased(),
                          littleEndian: endian != "big", headerLength: end)
    }

    static func sampleType(_ name: String) -> SampleType? {
        switch name.lowercased() {
        case "uchar", "unsigned char", "uint8", "uint8_t": .uint8
        case "signed char", "int8", "int8_t": .int8
        case "short", "short int", "signed short", "signed short int", "int16", "int16_t": .int16
        case "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t": .uint16
        case "int", "signed int", "int32", "int32_t": .int32
        case "uint", "unsigned int", "uint32", "uint32_t": .uint32
        case "longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t": .int64
        case "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t": .uint64
        case "float": .float32
        case "double": .float64
        default: nil
        }
    }
}
