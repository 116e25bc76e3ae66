import CMedCodecs
import CPNG
import Foundation

/// A decoded PNG with every channel the file holds and its full sample range.
public struct PNGRaster: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. Palettes are expanded to RGB, a tRNS chunk to an alpha channel.
    public let channels: Int
    /// 8 or 16. Grey images of 1, 2 or 4 bits are scaled to 8 bits (0...2^d-1 -> 0...255).
    public let bitDepth: Int
    /// PNG colour type as stored in the IHDR chunk (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA).
    public let colorType: Int
    /// Row-major interleaved samples, exact file values (0...255 or 0...65535).
    public let samples: [UInt16]

    /// The colour planes as an `Image2D` (alpha dropped, as Pillow's `convert("RGB")`/`"L"` does), values unchanged.
    public var image: Image2D {
        let colour = channels >= 3 ? 3 : 1
        let n = width * height
        var out = [Float](repeating: 0, count: n * colour)
        samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for c in 0..<colour { dst[i * colour + c] = Float(src[i * channels + c]) }
                }
            }
        }
        return Image2D(unchecked: width, height, colour, out)
    }
}

/// PNG reading and writing through libpng (classic API inside the `CMedCodecs` C wrapper, so libpng's longjmp
/// error path never crosses Swift frames). Reading is exact: no gamma or colour-management conversion is applied,
/// 16-bit samples keep their full range.
public enum PNGCodec {
    /// Decodes PNG bytes. `name` is used in error messages.
    public static func decode(_ data: Data, name: String = "<memory>") throws(MedImageError) -> PNGRaster {
        var image = medpng_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBytes { raw in
            medpng_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &image, &message, message.count)
        }
        guard status == 0 else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let kind: MedImageError.Kind = text.contains("truncated") || text.contains("Read Error") ? .truncated : .corrupt
            throw MedImageError(file: name, kind: kind, "cannot decode PNG (\(text))")
        }
        defer { medcodecs_free(image.pixels) }
        let count = Int(image.width) * Int(image.height) * Int(image.channels)
        var samples = [UInt16](repeating: 0, count: count)
        if let pixels = image.pixels {
            samples.withUnsafeMutableBufferPointer { dst in
                if image.bit_depth == 16 {
                    pixels.withMemoryRebound(to: UInt16.self, capacity: count) { src in
                        for i in 0..<count { dst[i] = src[i] }
                    }
                } else {
                    for i in 0..<count { dst[i] = UInt16(pixels[i]) }
                }
            }
        }
        return PNGRaster(width: Int(image.width), height: Int(image.height), channels: Int(image.channels),
                         bitDepth: Int(image.bit_depth), colorType: Int(image.color_type), samples: samples)
    }

    /// Reads a PNG file into an `Image2D` (grey or RGB, alpha dropped, values exact).
    public static func read(_ url: URL) throws(MedImageError) -> Image2D {
        try decode(readFileData(url), name: MedImageError.label(for: url)).image
    }

    /// Encodes 8- or 16-bit samples (host-order `UInt16` for 16-bit) into PNG bytes.
    /// - Parameters:
    ///   - samples: row-major interleaved, `width * height * channels` entries, each < 2^bitDepth.
    ///   - channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    public static func encode(samples: [UInt16], width: Int, height: Int, channels: Int, bitDepth: Int,
                              compressionLevel: Int = 6) throws(MedImageError) -> Data
    {
        guard width > 0, height > 0, (1...4).contains(channels), bitDepth == 8 || bitDepth == 16,
              samples.count == width * height * channels
        else {
            throw MedImageError(file: "<png>", kind: .invalidArgument,
                                "cannot encode \(samples.count) samples as \(width)x\(height)x\(channels) \(bitDepth)-bit PNG")
        }
        if bitDepth == 8 {
            var bytes = [UInt8](repeating: 0, count: samples.count)
            samples.withUnsafeBufferPointer { src in
                bytes.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<src.count { dst[i] = UInt8(truncatingIfNeeded: min(src[i], 255)) }
                }
            }
            return try encodeRaw(bytes, width: width, height: height, channels: channels, bitDepth: 8,
                                 compressionLevel: compressionLevel)
        }
        let bytes = samples.withUnsafeBytes { Array($0) }
        return try encodeRaw(bytes, width: width, height: height, channels: channels, bitDepth: 16,
                             compressionLevel: compressionLevel)
    }

    /// Encodes 8-bit samples without conversion.
    public static func encode(bytes: [UInt8], width: Int, height: Int, channels: Int,
                              compressionLevel: Int = 6) throws(MedImageError) -> Data
    {
        guard width > 0, height > 0, (1...4).contains(channels), bytes.count == width * height * channels else {
            throw MedImageError(file: "<png>", kind: .invalidArgument,
                                "cannot encode \(bytes.count) bytes as \(width)x\(height)x\(channels) 8-bit PNG")
        }
        return try encodeRaw(bytes, width: width, height: height, channels: channels, bitDepth: 8,
                             compressionLevel: compressionLevel)
    }

    private static func encodeRaw(_ bytes: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int,
                                  compressionLevel: Int) throws(MedImageError) -> Data
    {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { p in
            medpng_encode(p.baseAddress, UInt32(width), UInt32(height), UInt32(channels), UInt32(bitDepth),
                          Int32(compressionLevel), &out, &length, &message, message.count)
        }
        guard status == 0, let out else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw MedImageError(file: "<png>", kind: .io, "cannot encode PNG (\(text))")
        }
        defer { medcodecs_free(out) }
        return Data(bytes: out, count: length)
    }

    /// Writes an 8-bit grey PNG (atomically). `pixels` row-major, `width * height` bytes.
    public static func writeGrey8(_ pixels: [UInt8], width: Int, height: Int, to url: URL) throws(MedImageError) {
        let data = try annotate(url) { () throws(MedImageError) in
            try encode(bytes: pixels, width: width, height: height, channels: 1)
        }
        try writeFileAtomically(data, to: url)
    }

    /// Writes an 8-bit RGB PNG (atomically). `pixels` row-major interleaved RGB, `width * height * 3` bytes.
    public static func writeRGB8(_ pixels: [UInt8], width: Int, height: Int, to url: URL) throws(MedImageError) {
        let data = try annotate(url) { () throws(MedImageError) in
            try encode(bytes: pixels, width: width, height: height, channels: 3)
        }
        try writeFileAtomically(data, to: url)
    }

    /// Writes a 16-bit grey PNG (atomically), values exact. `pixels` row-major, `width * height` values.
    public static func writeGrey16(_ pixels: [UInt16], width: Int, height: Int, to url: URL) throws(MedImageError) {
        let data = try annotate(url) { () throws(MedImageError) in
            try encode(samples: pixels, width: width, height: height, channels: 1, bitDepth: 16)
        }
        try writeFileAtomically(data, to: url)
    }

    /// Re-labels an encoder error with the destination's file name.
    private static func annotate(_ url: URL, _ body: () throws(MedImageError) -> Data) throws(MedImageError) -> Data {
        do {
            return try body()
        } catch {
            throw MedImageError(file: MedImageError.label(for: url), kind: error.kind, error.message)
        }
    }
}
