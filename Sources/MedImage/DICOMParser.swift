import Foundation

/// One top-level data element: where its value lies in the dataset buffer.
struct DICOMElement {
    let tag: UInt32
    let vr: String
    let offset: Int
    let length: Int
}

/// The top-level elements of a DICOM dataset (sequences are skipped, not descended into) and the pixel data's
/// location. All offsets refer to `bytes`.
struct DICOMDataset {
    var bytes: Data
    var littleEndian: Bool
    var transferSyntax: DICOMTransferSyntax
    var elements: [UInt32: DICOMElement] = [:]
    /// Native pixel data: value offset, declared length, bytes actually present.
    var pixelData: (offset: Int, declared: Int, present: Int)?
    /// Encapsulated pixel data: fragment ranges, the Basic Offset Table item excluded.
    var fragments: [Range<Int>]?

    static let pixelDataTag: UInt32 = 0x7FE0_0010

    /// String value (character VRs), trailing spaces/NULs trimmed, or nil.
    func string(_ tag: UInt32) -> String? {
        guard let e = elements[tag] else { return nil }
        return bytes.withUnsafeBytes { ByteReader($0, littleEndian: littleEndian).string(e.offset, e.length) }
    }

    /// Backslash-separated numbers of a DS/IS value (or binary US/SS/UL/FL/FD values).
    func numbers(_ tag: UInt32) -> [Double] {
        guard let e = elements[tag] else { return [] }
        switch e.vr {
        case "US", "SS", "UL", "SL", "FL", "FD":
            return bytes.withUnsafeBytes { raw in
                let r = ByteReader(raw, littleEndian: littleEndian)
                let size = ["US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8][e.vr]!
                return (0..<(e.length / size)).compactMap { i -> Double? in
                    let o = e.offset + i * size
                    switch e.vr {
                    case "US": return r.u16(o).map(Double.init)
                    case "SS": return r.i16(o).map(Double.init)
                    case "UL": return r.u32(o).map(Double.init)
                    case "SL": return r.i32(o).map(Double.init)
                    case "FL": return r.f32(o).map(Double.init)
                    default: return r.f64(o)
                    }
                }
            }
        default:
            guard let s = string(e.tag) else { return [] }
            return s.split(separator: "\\", omittingEmptySubsequences: false).compactMap {
                Double($0.trimmingCharacters(in: .whitespaces))
            }
        }
    }

    func int(_ tag: UInt32) -> Int? { numbers(tag).first.flatMap { $0.isFinite ? Int(exactly: $0.rounded()) : nil } }
}

/// Part-10 / raw dataset parsing.
enum DICOMParser {
    /// VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length.
    static let longVRs: Set<String> = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]

    /// VRs of the attributes MedImage reads, for implicit-VR datasets.
    static let implicitVRs: [UInt32: String] = [
        0x0002_0010: "UI", 0x0008_0016: "UI", 0x0008_0060: "CS", 0x0020_000E: "UI", 0x0020_0013: "IS",
        0x0020_0032: "DS", 0x0020_0037: "DS", 0x0020_1041: "DS", 0x0028_0002: "US", 0x0028_0004: "CS",
        0x0028_0006: "US", 0x0028_0008: "IS", 0x0028_0010: "US", 0x0028_0011: "US", 0x0028_0030: "DS",
        0x0018_1164: "DS", 0x0028_0100: "US", 0x0028_0101: "US", 0x0028_0102: "US", 0x0028_0103: "US",
        0x0028_1050: "DS", 0x0028_1051: "DS", 0x0028_1052: "DS", 0x0028_1053: "DS", 0x0028_1054: "LO",
        0x0018_0050: "DS", 0x0018_0088: "DS", 0x7FE0_0010: "OW",
    ]

    static let undefinedLength = 0xFFFF_FFFF

    /// Parses a DICOM file: optional 128-byte preamble + "DICM", file meta group (explicit VR LE), then the
    /// dataset in its transfer syntax.
    static func parse(_ data: Data, name: String) throws(MedImageError) -> DICOMDataset {
        var start = 0
        if data.count >= 132, data[data.startIndex + 128..<data.startIndex + 132].elementsEqual(Array("DICM".utf8)) {
            start = 132
        } else if data.count >= 4, data[data.startIndex..<data.startIndex + 4].elementsEqual(Array("DICM".utf8)) {
            start = 4
        } else if !looksLikeDataset(data) {
            throw MedImageError(file: name, kind: .corrupt, "not a DICOM file (no DICM marker and no recognisable data elements)")
        }
        let bytes = Data(data)  // rebase indices to 0
        // File meta information: always explicit VR little endian, group 0002.
        var meta = DICOMDataset(bytes: bytes, littleEndian: true, transferSyntax: .explicitVRLittleEndian)
        let datasetStart = try withBytes(bytes) { (raw) throws(MedImageError) -> Int in
            try parseElements(raw, from: start, to: raw.count, explicit: true, little: true, into: &meta,
                              depth: 0, name: name, stopAfterGroup2: true)
        }
        let tsUID = meta.string(0x0002_0010).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\0 ")) }
        var ts = DICOMTransferSyntax(uid: tsUID ?? DICOMTransferSyntax.implicitVRLittleEndian.uid)
        if tsUID == nil && start == 0 && datasetStart == 0 {
            // No file meta: guess explicit vs implicit VR from the first element.
            ts = looksExplicit(bytes) ? .explicitVRLittleEndian : .implicitVRLittleEndian
        }
        var body = bytes
        var bodyStart = datasetStart
        if ts == .deflatedExplicitVRLittleEndian {
            body = try Gzip.inflateRaw(bytes.subdata(in: datasetStart..<bytes.count), file: name)
            bodyStart = 0
        }
        var dataset = DICOMDataset(bytes: body, littleEndian: !ts.isBigEndian, transferSyntax: ts)
        dataset.elements = meta.elements
        _ = try withBytes(body) { (raw) throws(MedImageError) -> Int in
            try parseElements(raw, from: bodyStart, to: raw.count, explicit: !ts.isImplicitVR, little: !ts.isBigEndian,
                              into: &dataset, depth: 0, name: name, stopAfterGroup2: false)
        }
        if ts == .deflatedExplicitVRLittleEndian {
            // Meta elements point into the original bytes; keep only the dataset's own.
            dataset.elements = dataset.elements.filter { $0.key >> 16 != 0x0002 }
        }
        return dataset
    }

    private static func looksLikeDataset(_ data: Data) -> Bool {
        guard data.count >= 8 else { return false }
        let g = UInt16(data[data.startIndex]) | UInt16(data[data.startIndex + 1]) << 8
        return g == 0x0002 || g == 0x0008
    }

    private static func looksExplicit(_ data: Data) -> Bool {
        guard data.count >= 6 else { return false }
        let a = data[data.startIndex + 4], b = data[data.startIndex + 5]
        return (0x41...0x5A).contains(a) && (0x41...0x5A).contains(b)
    }

    private static func tagName(_ tag: UInt32) -> String {
        String(format: "(%04X,%04X)", tag >> 16, tag & 0xFFFF)
    }

    /// Parses elements in `[from, to)`. At depth 0 elements are stored in `dataset`; nested items are only
    /// skipped. Returns the position after an item delimiter (nested) or the end position.
    @discardableResult
    static func parseElements(_ raw: UnsafeRawBufferPointer, from: Int, to end: Int, explicit: Bool, little: Bool,
                              into dataset: inout DICOMDataset, depth: Int, name: String,
                              stopAfterGroup2: Bool) throws(MedImageError) -> Int
    {
        guard depth < 32 else { throw MedImageError(file: name, kind: .corrupt, "DICOM sequences nested too deeply") }
        var pos = from
        while pos < end {
            let r = ByteReader(raw, littleEndian: stopAfterGroup2 ? true : little)
            guard end - pos >= 8 else {
                if depth == 0 { return end }  // trailing padding
                throw MedImageError(file: name, kind: .truncated, "file ends inside a DICOM sequence")
            }
            let group = r.u16(pos)!
            let element = r.u16(pos + 2)!
            let tag = UInt32(group) << 16 | UInt32(element)
            if stopAfterGroup2 && group != 0x0002 { return pos }
            if tag == 0xFFFE_E00D { return pos + 8 }  // item delimitation
            if tag == 0xFFFE_E0DD { return pos + 8 }  // stray sequence delimitation
            var vr = "UN"
            var length: Int
            var header: Int
            let isItemTag = group == 0xFFFE
            if explicit && !isItemTag {
                let c0 = raw[pos + 4], c1 = raw[pos + 5]
                vr = String(decoding: [c0, c1], as: UTF8.self)
                if longVRs.contains(vr) {
                    guard let l = r.u32(pos + 8) else {
                        throw MedImageError(file: name, kind: .truncated, "file ends inside element \(tagName(tag))")
                    }
                    length = Int(l)
                    header = 12
                } else {
                    length = Int(r.u16(pos + 6)!)
                    header = 8
                }
            } else {
                length = Int(r.u32(pos + 4)!)
                header = 8
                vr = implicitVRs[tag] ?? "UN"
            }
            let valuePos = pos + header
            if tag == DICOMDataset.pixelDataTag && depth == 0 {
                if length == undefinedLength {
                    var fragments: [Range<Int>] = []
                    var p = valuePos
                    var first = true
                    while true {
                        guard end - p >= 8 else {
                            throw MedImageError(file: name, kind: .truncated,
                                                "encapsulated pixel data truncated (file ends before the sequence delimiter)")
                        }
                        let itemTag = UInt32(r.u16(p)!) << 16 | UInt32(r.u16(p + 2)!)
                        let itemLength = Int(r.u32(p + 4)!)
                        if itemTag == 0xFFFE_E0DD { break }
                        guard itemTag == 0xFFFE_E000, itemLength != undefinedLength else {
                            throw MedImageError(file: name, kind: .corrupt, "invalid item in encapsulated pixel data")
                        }
                        guard end - (p + 8) >= itemLength else {
                            throw MedImageError(file: name, kind: .truncated,
                                                "pixel data truncated (fragment declares \(itemLength) bytes, found \(end - p - 8))")
                        }
                        if !first { fragments.append((p + 8)..<(p + 8 + itemLength)) }
                        first = false
                        p += 8 + itemLength
                    }
                    dataset.fragments = fragments
                } else {
                    dataset.pixelData = (valuePos, length, max(0, min(length, end - valuePos)))
                }
                dataset.elements[tag] = DICOMElement(tag: tag, vr: vr, offset: valuePos, length: 0)
                return end  // nothing after Pixel Data is needed
            }
            if length == undefinedLength {
                // SQ (or UN holding an implicit-VR sequence): skip its items.
                pos = try skipSequence(raw, from: valuePos, to: end, explicit: vr == "UN" ? false : explicit,
                                       little: little, into: &dataset, depth: depth + 1, name: name)
                continue
            }
            guard end - valuePos >= length else {
                throw MedImageError(file: name, kind: .truncated,
                                    "element \(tagName(tag)) declares \(length) bytes, only \(max(0, end - valuePos)) present")
            }
            if depth == 0 && !isItemTag { dataset.elements[tag] = DICOMElement(tag: tag, vr: vr, offset: valuePos, length: length) }
            pos = valuePos + length
        }
        return pos
    }

    /// Skips the items of an undefined-length sequence; returns the position after its delimiter.
    private static func skipSequence(_ raw: UnsafeRawBufferPointer, from: Int, to end: Int, explicit: Bool,
                                     little: Bool, into dataset: inout DICOMDataset, depth: Int,
                                     name: String) throws(MedImageError) -> Int
    {
        let r = ByteReader(raw, littleEndian: little)
        var pos = from
        while true {
            guard end - pos >= 8 else {
                throw MedImageError(file: name, kind: .truncated, "file ends inside a DICOM sequence")
            }
            let tag = UInt32(r.u16(pos)!) << 16 | UInt32(r.u16(pos + 2)!)
            let length = Int(r.u32(pos + 4)!)
            if tag == 0xFFFE_E0DD { return pos + 8 }
            guard tag == 0xFFFE_E000 else {
                throw MedImageError(file: name, kind: .corrupt, "invalid item tag \(tagName(tag)) in a DICOM sequence")
            }
            if length == undefinedLength {
                pos = try parseElements(raw, from: pos + 8, to: end, explicit: explicit, little: little, into: &dataset,
                                        depth: depth, name: name, stopAfterGroup2: false)
            } else {
                guard end - (pos + 8) >= length else {
                    throw MedImageError(file: name, kind: .truncated, "file ends inside a DICOM sequence item")
                }
                pos += 8 + length
            }
        }
    }
}
