import CZlib
import Foundation

/// gzip / zlib streams via the system zlib.
enum Gzip {
    /// True when `data` starts with the gzip magic 1F 8B.
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Inflates a gzip (possibly multi-member) or zlib stream (`inflateInit2` with windowBits 47 = auto-detect).
    /// - Parameters:
    ///   - limit: stop once this many bytes have been produced (nil: inflate everything).
    ///   - file: name used in error messages.
    /// - Throws: `.corrupt` with zlib's message for a bad stream, `.truncated` when the input ends mid-stream.
    static func inflate(_ data: Data, limit: Int? = nil, file: String) throws(MedImageError) -> Data {
        var output = Data()
        var failure: MedImageError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress, raw.count > 0 else {
                failure = MedImageError(file: file, kind: .truncated, "empty compressed stream")
                return
            }
            var consumed = 0
            let chunk = 1 << 18
            var buffer = [UInt8](repeating: 0, count: chunk)
            memberLoop: while consumed < raw.count {
                var stream = z_stream()
                stream.next_in = UnsafeMutablePointer(mutating: base + consumed)
                stream.avail_in = uInt(min(raw.count - consumed, Int(UInt32.max)))
                guard inflateInit2_(&stream, 47, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    failure = MedImageError(file: file, kind: .corrupt, "cannot initialise zlib")
                    return
                }
                defer { inflateEnd(&stream) }
                while true {
                    let status: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(chunk)
                        return CZlib.inflate(&stream, Z_NO_FLUSH)
                    }
                    let produced = chunk - Int(stream.avail_out)
                    if produced > 0 { output.append(buffer, count: produced) }
                    if let limit, output.count >= limit { return }
                    if status == Z_STREAM_END {
                        consumed = raw.count - Int(stream.avail_in)
                        // Another gzip member may follow; trailing zero padding is ignored.
                        if consumed + 2 <= raw.count, base[consumed] == 0x1F, base[consumed + 1] == 0x8B {
                            continue memberLoop
                        }
                        return
                    }
                    if status == Z_OK { continue }
                    if status == Z_BUF_ERROR && stream.avail_in == 0 {
                        failure = MedImageError(file: file, kind: .truncated,
                                                "compressed stream ends early (after \(output.count) bytes inflated)")
                        return
                    }
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    failure = MedImageError(file: file, kind: .corrupt,
                                            "corrupt gzip/deflate stream (\(message)) after \(output.count) bytes inflated")
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Inflates a raw deflate stream (no zlib/gzip wrapper), as used by Deflated Explicit VR Little Endian DICOM.
    static func inflateRaw(_ data: Data, file: String) throws(MedImageError) -> Data {
        var output = Data()
        var failure: MedImageError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress, raw.count > 0 else { return }
            var stream = z_stream()
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(min(raw.count, Int(UInt32.max)))
            guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                failure = MedImageError(file: file, kind: .corrupt, "cannot initialise zlib")
                return
            }
            defer { inflateEnd(&stream) }
            let chunk = 1 << 18
            var buffer = [UInt8](repeating: 0, count: chunk)
            while true {
                let status: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk - Int(stream.avail_out)
                if produced > 0 { output.append(buffer, count: produced) }
                if status == Z_STREAM_END { return }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    failure = MedImageError(file: file, kind: .truncated, "deflated dataset ends early")
                    return
                }
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                failure = MedImageError(file: file, kind: .corrupt, "corrupt deflated dataset (\(message))")
                return
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Compresses `data` into a single gzip member (windowBits 31).
    static func deflateGzip(_ data: Data, level: Int32 = 6, file: String) throws(MedImageError) -> Data {
        var output = Data()
        var failure: MedImageError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var stream = z_stream()
            guard deflateInit2_(&stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                                Int32(MemoryLayout<z_stream>.size)) == Z_OK
            else {
                failure = MedImageError(file: file, kind: .io, "cannot initialise zlib deflate")
                return
            }
            defer { deflateEnd(&stream) }
            let empty: UInt8 = 0
            withUnsafePointer(to: empty) { emptyPointer in
                stream.next_in = UnsafeMutablePointer(
                    mutating: raw.bindMemory(to: UInt8.self).baseAddress ?? emptyPointer)
                stream.avail_in = uInt(raw.count)
                let chunk = 1 << 18
                var buffer = [UInt8](repeating: 0, count: chunk)
                while true {
                    let status: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(chunk)
                        return CZlib.deflate(&stream, Z_FINISH)
                    }
                    let produced = chunk - Int(stream.avail_out)
                    if produced > 0 { output.append(buffer, count: produced) }
                    if status == Z_STREAM_END { return }
                    if status != Z_OK && status != Z_BUF_ERROR {
                        failure = MedImageError(file: file, kind: .io, "zlib deflate failed (\(status))")
                        return
                    }
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
