/// DICOM RLE Lossless (PS3.5 Annex G) frame decoding.
enum DICOMRLE {
    /// Decodes one RLE frame into native little-endian interleaved samples
    /// (`rows * columns * samples * bytesPerSample` bytes).
    static func decodeFrame(_ frame: UnsafeRawBufferPointer, rows: Int, columns: Int, samples: Int,
                            bytesPerSample: Int, name: String) throws(MedImageError) -> [UInt8]
    {
        let pixels = rows * columns
        let r = ByteReader(frame, littleEndian: true)
        guard let nSegments = r.u32(0), frame.count >= 64 else {
            throw MedImageError(file: name, kind: .corrupt, "RLE frame too short for its 64-byte header")
        }
        let expectedSegments = samples * bytesPerSample
        guard Int(nSegments) == expectedSegments else {
            throw MedImageError(file: name, kind: .corrupt,
                                "RLE frame has \(nSegments) segments, expected \(expectedSegments)")
        }
        // A PackBits byte pair expands to at most 128 bytes: reject sizes the data cannot hold before allocating.
        guard pixels <= 64 * frame.count else {
            throw MedImageError(file: name, kind: .truncated,
                                "RLE frame of \(frame.count) bytes cannot hold \(rows)x\(columns) pixels")
        }
        let offsets = (0..<expectedSegments).map { Int(r.u32(4 + 4 * $0)!) }
        var out = [UInt8](repeating: 0, count: pixels * expectedSegments)
        for s in 0..<expectedSegments {
            let start = offsets[s]
            let stop = s + 1 < expectedSegments ? offsets[s + 1] : frame.count
            guard start >= 64, start <= stop, stop <= frame.count else {
                throw MedImageError(file: name, kind: .corrupt, "RLE segment \(s) offsets out of range")
            }
            // Segment s holds byte (s % bytesPerSample) of sample (s / bytesPerSample), most significant first.
            let sample = s / bytesPerSample
            let byteInSample = bytesPerSample - 1 - s % bytesPerSample  // little-endian position
            let stride = expectedSegments
            let base = sample * bytesPerSample + byteInSample
            var produced = 0
            var p = start
            out.withUnsafeMutableBufferPointer { dst in
                while p < stop && produced < pixels {
                    let n = Int(Int8(bitPattern: frame[p]))
                    p += 1
                    if n >= 0 {
                        let count = min(n + 1, stop - p, pixels - produced)
                        for k in 0..<count { dst[base + (produced + k) * stride] = frame[p + k] }
                        produced += count
                        p += n + 1
                    } else if n != -128 {
                        guard p < stop else { break }
                        let value = frame[p]
                        p += 1
                        let count = min(1 - n, pixels - produced)
                        for k in 0..<count { dst[base + (produced + k) * stride] = value }
                        produced += count
                    }
                }
            }
            guard produced == pixels else {
                throw MedImageError(file: name, kind: .truncated,
                                    "RLE segment \(s) decodes to \(produced) bytes, expected \(pixels)")
            }
        }
        return out
    }
}
