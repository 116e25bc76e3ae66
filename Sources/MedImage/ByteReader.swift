import Foundation

/// Bounds-checked little/big-endian reads from a byte buffer. Every read returns nil instead of trapping when the
/// requested bytes are not there, so parsers can turn short input into a `truncated` error.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var littleEndian: Bool

    init(_ bytes: UnsafeRawBufferPointer, littleEndian: Bool = true) {
        self.bytes = bytes
        self.littleEndian = littleEndian
    }

    var count: Int { bytes.count }

    func has(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count && bytes.count - offset >= length
    }

    func u8(_ o: Int) -> UInt8? { has(o, 1) ? bytes[o] : nil }

    func u16(_ o: Int) -> UInt16? {
        guard has(o, 2) else { return nil }
        let v = bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self)
        return littleEndian ? UInt16(littleEndian: v) : UInt16(bigEndian: v)
    }

    func u32(_ o: Int) -> UInt32? {
        guard has(o, 4) else { return nil }
        let v = bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)
        return littleEndian ? UInt32(littleEndian: v) : UInt32(bigEndian: v)
    }

    func u64(_ o: Int) -> UInt64? {
        guard has(o, 8) else { return nil }
        let v = bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)
        return littleEndian ? UInt64(littleEndian: v) : UInt64(bigEndian: v)
    }

    func i16(_ o: Int) -> Int16? { u16(o).map { Int16(bitPattern: $0) } }
    func i32(_ o: Int) -> Int32? { u32(o).map { Int32(bitPattern: $0) } }
    func i64(_ o: Int) -> Int64? { u64(o).map { Int64(bitPattern: $0) } }
    func f32(_ o: Int) -> Float? { u32(o).map { Float(bitPattern: $0) } }
    func f64(_ o: Int) -> Double? { u64(o).map { Double(bitPattern: $0) } }

    /// Latin-1 / ASCII string of `length` bytes, trailing NULs and spaces trimmed.
    func string(_ o: Int, _ length: Int) -> String? {
        guard has(o, length) else { return nil }
        var chars = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[o..<(o + length)]))
        while let last = chars.last, last == 0 || last == 0x20 { chars.removeLast() }
        if let nul = chars.firstIndex(of: 0) { chars.removeSubrange(nul...) }
        return String(decoding: chars, as: UTF8.self)
    }
}

/// `Data.withUnsafeBytes` with a typed-throwing body.
func withBytes<T>(_ data: Data, _ body: (UnsafeRawBufferPointer) throws(MedImageError) -> T) throws(MedImageError) -> T {
    let result: Result<T, MedImageError> = data.withUnsafeBytes { raw in
        do throws(MedImageError) {
            return .success(try body(raw))
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}
