import CJPEG
import CMedCodecs
import Foundation

/// JPEG reading through libjpeg-turbo (inside the `CMedCodecs` C wrapper, so libjpeg's `error_exit` longjmp never
/// crosses Swift frames). Greyscale files give one channel, everything else RGB as libjpeg converts it (the same
/// decoder Pillow uses, so values match Pillow bit for bit on this platform).
public enum JPEGCodec {
    /// Decodes JPEG bytes into a grey or RGB `Image2D` with values 0...255.
    /// - Throws: `.corrupt` for an invalid stream, `.truncated` when the data ends before the last scan line.
    public static func decode(_ data: Data, name: String = "<memory>") throws(MedImageError) -> Image2D {
        let raw = try decodeBytes(data, keepColourSpace: false, name: name)
        var out = [Float](repeating: 0, count: raw.bytes.count)
        raw.bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count { dst[i] = Float(src[i]) }
            }
        }
        return Image2D(unchecked: raw.width, raw.height, raw.channels, out)
    }

    /// Reads a JPEG file into a grey or RGB `Image2D` (0...255).
    public static func read(_ url: URL) throws(MedImageError) -> Image2D {
        try decode(readFileData(url), name: MedImageError.label(for: url))
    }

    /// Decodes to interleaved bytes. With `keepColourSpace` the stored colour space (for example YCbCr) is kept.
    static func decodeBytes(_ data: Data, keepColourSpace: Bool, name: String) throws(MedImageError)
        -> (width: Int, height: Int, channels: Int, bytes: [UInt8])
    {
        var image = medjpeg_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBytes { raw in
            medjpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, keepColourSpace ? 1 : 0, &image,
                           &message, message.count)
        }
        guard status == 0 else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw MedImageError(file: name, kind: .corrupt, "cannot decode JPEG (\(text))")
        }
        defer { medcodecs_free(image.pixels) }
        if image.truncated != 0 {
            throw MedImageError(file: name, kind: .truncated, "JPEG data ends before the image is complete")
        }
        let bytes = image.pixels.map { Array(UnsafeBufferPointer(start: $0, count: image.size)) } ?? []
        return (Int(image.width), Int(image.height), Int(image.channels), bytes)
    }
}
