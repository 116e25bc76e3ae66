// Producing contiguous values from a stored tensor: gathering strided views and converting element types.

extension StoredTensor {
    /// Calls `body` with the tensor's elements as contiguous row-major bytes in the stored dtype.
    /// Zero-copy when the view is already contiguous; otherwise the elements are gathered into a temporary buffer.
    public func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let byteCount = elementCount * dtype.itemSize
        if isContiguous || elementCount <= 1 {
            return try body(buffer.slice(byteOffset, byteCount))
        }
        let gathered = [UInt8](unsafeUninitializedCapacity: byteCount) { destination, initialized in
            let out = UnsafeMutableRawPointer(destination.baseAddress!)
            switch dtype.itemSize {
            case 1: gather(UInt8.self, into: out)
            case 2: gather(UInt16.self, into: out)
            case 4: gather(UInt32.self, into: out)
            default: gather(UInt64.self, into: out)
            }
            initialized = byteCount
        }
        return try gathered.withUnsafeBytes(body)
    }

    /// The elements as contiguous row-major bytes in the stored dtype (little-endian).
    public func contiguousBytes() -> [UInt8] {
        withContiguousBytes { [UInt8]($0) }
    }

    /// The elements converted to Float (float16, bfloat16 and float64 converted exactly as PyTorch's `.float()`;
    /// integers and bools converted to the nearest Float).
    public func floats() -> [Float] {
        [Float](unsafeUninitializedCapacity: elementCount) { out, initialized in
            copyFloats(into: out)
            initialized = elementCount
        }
    }

    /// Writes the elements converted to Float (as `floats()`) into `destination`, straight from the stored bytes
    /// when the view is contiguous (no temporary array). With `releasingMappedPages`, the file pages read are
    /// released as the copy proceeds (in chunks of `releaseChunkBytes`), so even a large tensor keeps only a
    /// few MiB of the file resident; see `releaseMappedPages()`.
    /// - Precondition: `destination.count` equals `elementCount`.
    public func copyFloats(into destination: UnsafeMutableBufferPointer<Float>, releasingMappedPages: Bool = false) {
        let count = elementCount
        precondition(destination.count == count, "\(destination.count) floats cannot hold a tensor of shape \(shape)")
        guard count > 0 else { return }
        let out = destination.baseAddress!
        guard releasingMappedPages else {
            withContiguousBytes { raw in convertToFloat(raw, count: count, into: out) }
            return
        }
        guard isContiguous || count == 1 else {
            withContiguousBytes { raw in convertToFloat(raw, count: count, into: out) }
            releaseMappedPages()
            return
        }
        let item = dtype.itemSize
        let chunk = max(StoredTensor.releaseChunkBytes / item, 1)
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            convertToFloat(buffer.slice(byteOffset + start * item, n * item), count: n, into: out + start)
            buffer.releasePages(byteOffset + start * item, n * item)
            start += n
        }
    }

    /// Bytes of a file mapping converted between releases by `copyFloats(into:releasingMappedPages:)`.
    static let releaseChunkBytes = 4 << 20

    /// Releases this process's resident pages of the file bytes the tensor views (after its values were copied
    /// out): resident memory stays near one copy of the weights while a checkpoint is loaded. The values remain
    /// readable (the pages map again from the file on the next access); no-op for tensors not viewing a file.
    public func releaseMappedPages() {
        let count = elementCount
        guard count > 0 else { return }
        var lastElement = 0
        for (size, step) in zip(shape, strides) { lastElement += (size - 1) * step }
        buffer.releasePages(byteOffset, (lastElement + 1) * dtype.itemSize)
    }

    /// The elements converted to Int64 (integers widened, bools as 0/1; floating values truncated toward zero,
    /// NaN as 0, out-of-range values clamped).
    public func int64s() -> [Int64] {
        let count = elementCount
        if dtype.isFloatingPoint {
            return floatingToInt64(count: count)
        }
        return withContiguousBytes { raw in
            [Int64](unsafeUninitializedCapacity: count) { out, initialized in
                let source = raw.baseAddress!
                let destination = out.baseAddress!
                switch dtype {
                case .int64:
                    for i in 0..<count { destination[i] = Int64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
                case .int32:
                    for i in 0..<count { destination[i] = Int64(Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))) }
                case .int16:
                    for i in 0..<count { destination[i] = Int64(Int16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))) }
                case .int8:
                    for i in 0..<count { destination[i] = Int64(source.load(fromByteOffset: i, as: Int8.self)) }
                case .uint8:
                    for i in 0..<count { destination[i] = Int64(source.load(fromByteOffset: i, as: UInt8.self)) }
                default:  // bool
                    for i in 0..<count { destination[i] = source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
                }
                initialized = count
            }
        }
    }

    private func floatingToInt64(count: Int) -> [Int64] {
        if dtype == .float64 {
            return withContiguousBytes { raw in
                [Int64](unsafeUninitializedCapacity: count) { out, initialized in
                    for i in 0..<count {
                        let bits = UInt64(littleEndian: raw.baseAddress!.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                        out[i] = clampToInt64(Double(bitPattern: bits))
                    }
                    initialized = count
                }
            }
        }
        let values = floats()
        return [Int64](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count { out[i] = clampToInt64(Double(values[i])) }
            initialized = count
        }
    }

    /// Converts `count` contiguous elements of this tensor's dtype at `raw` to Float.
    private func convertToFloat(_ raw: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        let source = raw.baseAddress!
        switch dtype {
        case .float32:
            if count > 0 { UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4) }
        case .float16:
            for i in 0..<count {
                let half = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                out[i] = Float(bitPattern: halfToFloatBits(half))
            }
        case .bfloat16:
            for i in 0..<count {
                let half = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(half) << 16)
            }
        case .float64:
            for i in 0..<count {
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
            }
        case .int64:
            for i in 0..<count { out[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))) }
        case .int32:
            for i in 0..<count { out[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))) }
        case .int16:
            for i in 0..<count { out[i] = Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))) }
        case .int8:
            for i in 0..<count { out[i] = Float(source.load(fromByteOffset: i, as: Int8.self)) }
        case .uint8:
            for i in 0..<count { out[i] = Float(source.load(fromByteOffset: i, as: UInt8.self)) }
        case .bool:
            for i in 0..<count { out[i] = source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
        }
    }

    /// Copies the strided elements (of `Element`'s size) row-major into `out`.
    private func gather<Element: FixedWidthInteger>(_: Element.Type, into out: UnsafeMutableRawPointer) {
        let rank = shape.count
        let source = buffer.base + byteOffset
        let size = MemoryLayout<Element>.size
        let innerCount = shape[rank - 1]
        let innerStride = strides[rank - 1] * size
        let outerCount = elementCount / max(innerCount, 1)
        var index = [Int](repeating: 0, count: rank)  // odometer over the outer dimensions
        var written = 0
        for _ in 0..<outerCount {
            var offset = 0
            for axis in 0..<(rank - 1) { offset += index[axis] * strides[axis] }
            let row = source + offset * size
            for j in 0..<innerCount {
                out.storeBytes(of: row.loadUnaligned(fromByteOffset: j * innerStride, as: Element.self),
                               toByteOffset: (written + j) * size, as: Element.self)
            }
            written += innerCount
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// Float32 bit pattern of an IEEE half-precision value (exact; subnormals, infinities and NaN payloads kept).
@inline(__always)
func halfToFloatBits(_ half: UInt16) -> UInt32 {
    let sign = UInt32(half & 0x8000) << 16
    let exponent = UInt32(half >> 10) & 0x1F
    let mantissa = UInt32(half & 0x3FF)
    if exponent == 0x1F { return sign | 0x7F80_0000 | (mantissa << 13) }
    if exponent != 0 { return sign | ((exponent + 112) << 23) | (mantissa << 13) }
    if mantissa == 0 { return sign }
    // Subnormal half: normalise the mantissa into a normal float.
    var biased: UInt32 = 113
    var m = mantissa
    while m & 0x400 == 0 {
        m <<= 1
        biased -= 1
    }
    return sign | (biased << 23) | ((m & 0x3FF) << 13)
}

@inline(__always)
private func clampToInt64(_ value: Double) -> Int64 {
    if value.isNaN { return 0 }
    if value >= 9.223372036854775807e18 { return .max }
    if value <= -9.223372036854775808e18 { return .min }
    return Int64(value)
}
