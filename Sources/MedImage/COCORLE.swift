/// COCO run-length encoding as pycocotools writes it.
///
/// Runs are taken in **column-major** (Fortran) order over an `height x width` mask, starting with a run of 0s
/// (possibly of length 0) and alternating. `size` is `[height, width]`.
public struct COCORLE: Sendable, Equatable {
    public var height: Int
    public var width: Int
    /// Uncompressed run lengths.
    public var counts: [Int]

    /// Encodes a mask.
    public init(_ mask: BinaryMask) {
        height = mask.height
        width = mask.width
        var runs: [Int] = []
        var current: UInt8 = 0
        var run = 0
        mask.values.withUnsafeBufferPointer { m in
            for x in 0..<mask.width {
                for y in 0..<mask.height {
                    let v: UInt8 = m[y * mask.width + x] != 0 ? 1 : 0
                    if v != current {
                        runs.append(run)
                        run = 0
                        current = v
                    }
                    run += 1
                }
            }
        }
        runs.append(run)
        counts = runs
    }

    public init(height: Int, width: Int, counts: [Int]) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// The compact string form (pycocotools `rleToString`): each count (from the fourth on, minus the count two
    /// places before) as little-endian groups of 5 bits, 0x20 = more follows, sign in 0x10 of the last group,
    /// each group + 48 as an ASCII character.
    public var compressedString: String {
        var bytes: [UInt8] = []
        for i in 0..<counts.count {
            var x = counts[i]
            if i > 2 { x -= counts[i - 2] }
            var more = true
            while more {
                var c = x & 0x1F
                x >>= 5
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                bytes.append(UInt8(c + 48))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses the compact string form (pycocotools `rleFrString`).
    public init(height: Int, width: Int, compressed: String) throws(MedImageError) {
        let s = Array(compressed.utf8)
        var counts: [Int] = []
        var p = 0
        while p < s.count {
            var x = 0
            var k = 0
            var more = true
            while more {
                guard p < s.count, s[p] >= 48, k < 60 else {
                    throw MedImageError(file: "<rle>", kind: .corrupt, "invalid COCO RLE string")
                }
                let c = Int(s[p]) - 48
                x |= (c & 0x1F) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if !more && (c & 0x10) != 0 { x |= -1 << (5 * k) }
            }
            if counts.count > 2 { x += counts[counts.count - 2] }
            counts.append(x)
        }
        self.init(height: height, width: width, counts: counts)
    }

    /// Decodes back to a mask.
    public func mask() throws(MedImageError) -> BinaryMask {
        let n = height * width
        guard counts.allSatisfy({ $0 >= 0 }), counts.reduce(0, +) == n, n > 0 else {
            throw MedImageError(file: "<rle>", kind: .corrupt, "RLE counts do not sum to \(height)x\(width)")
        }
        var values = [UInt8](repeating: 0, count: n)
        var pos = 0
        var v: UInt8 = 0
        for c in counts {
            for k in pos..<(pos + c) {
                let x = k / height, y = k % height
                values[y * width + x] = v
            }
            pos += c
            v ^= 1
        }
        return try BinaryMask(width: width, height: height, values: values)
    }
}
