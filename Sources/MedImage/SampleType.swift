/// Numeric types of stored samples in NIfTI / NRRD / DICOM data.
public enum SampleType: String, Sendable, Equatable, CaseIterable {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64

    /// Bytes per sample.
    public var size: Int {
        switch self {
        case .uint8, .int8: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        }
    }

    /// Converts `count` samples at `offset` of `bytes` to Float32 (values beyond Float's 24-bit mantissa round).
    /// The caller checks that `offset + count * size <= bytes.count`.
    func decode(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int, littleEndian: Bool,
                into out: UnsafeMutableBufferPointer<Float>)
    {
        let swap = littleEndian != (1.littleEndian == 1)
        let p = bytes.baseAddress! + offset
        switch self {
        case .uint8:
            for i in 0..<count { out[i] = Float(p.load(fromByteOffset: i, as: UInt8.self)) }
        case .int8:
            for i in 0..<count { out[i] = Float(p.load(fromByteOffset: i, as: Int8.self)) }
        case .uint16:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                out[i] = Float(swap ? v.byteSwapped : v)
            }
        case .int16:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                out[i] = Float(Int16(bitPattern: swap ? v.byteSwapped : v))
            }
        case .uint32:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                out[i] = Float(swap ? v.byteSwapped : v)
            }
        case .int32:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                out[i] = Float(Int32(bitPattern: swap ? v.byteSwapped : v))
            }
        case .uint64:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                out[i] = Float(swap ? v.byteSwapped : v)
            }
        case .int64:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                out[i] = Float(Int64(bitPattern: swap ? v.byteSwapped : v))
            }
        case .float32:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                out[i] = Float(bitPattern: swap ? v.byteSwapped : v)
            }
        case .float64:
            for i in 0..<count {
                let v = p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                out[i] = Float(Double(bitPattern: swap ? v.byteSwapped : v))
            }
        }
    }
}

/// Multiplies positive sizes, returning nil on overflow or a non-positive factor.
func checkedProduct(_ values: [Int]) -> Int? {
    var n = 1
    for v in values {
        guard v > 0 else { return nil }
        let (r, o) = n.multipliedReportingOverflow(by: v)
        if o { return nil }
        n = r
    }
    return n
}
