import Foundation

/// A decoded DICOM image (single- or multi-frame) with the attributes needed to use it.
///
/// `storedValues` holds the raw stored pixel values exactly as pydicom's `pixel_array` gives them: signed per
/// PixelRepresentation (sign-extended from BitsStored), no modality LUT, no window, **no MONOCHROME1 inversion**.
/// Layout `[frame][row][column][sample]`, row 0 = first row in the file; colour is interleaved RGB.
public struct DICOMImage: Sendable {
    public var transferSyntax: DICOMTransferSyntax
    public var modality: String?
    public var sopClassUID: String?
    /// May be present but empty in anonymised data.
    public var seriesInstanceUID: String?
    public var instanceNumber: Int?
    public var rows: Int
    public var columns: Int
    public var frames: Int
    public var samplesPerPixel: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    /// 0 unsigned, 1 two's complement.
    public var pixelRepresentation: Int
    public var planarConfiguration: Int
    public var photometricInterpretation: String
    /// RescaleSlope (1 when absent).
    public var rescaleSlope: Double
    /// RescaleIntercept (0 when absent).
    public var rescaleIntercept: Double
    /// True when the file has RescaleSlope or RescaleIntercept.
    public var hasRescale: Bool
    /// PixelSpacing (or ImagerPixelSpacing); nil when absent or not positive (for example `0.000\0.000`).
    public var pixelSpacing: PixelSpacing?
    /// ImagePositionPatient: LPS position (mm) of the centre of the first transmitted pixel.
    public var imagePositionPatient: SIMD3<Double>?
    /// ImageOrientationPatient: row direction (along a row, increasing column) then column direction.
    public var imageOrientationPatient: [Double]?
    public var sliceThickness: Double?
    public var spacingBetweenSlices: Double?
    public var sliceLocation: Double?
    /// WindowCenter / WindowWidth pairs from the header (display defaults; may be empty).
    public var windows: [IntensityWindow]
    /// Raw stored values, see the type's note.
    public var storedValues: [Float]

    /// True for MONOCHROME1 (low values display white). Stored values are never inverted; `displayImage`
    /// inverts.
    public var isMonochrome1: Bool { photometricInterpretation == "MONOCHROME1" }

    /// Samples per frame.
    public var frameSampleCount: Int { rows * columns * samplesPerPixel }

    /// One frame as an `Image2D` with stored values, or modality values (`stored * slope + intercept`, HU for CT)
    /// when `rescaled`. Grey images have 1 channel, colour 3.
    public func frame(_ index: Int = 0, rescaled: Bool = true) throws(MedImageError) -> Image2D {
        guard index >= 0, index < frames else {
            throw MedImageError(file: "<dicom>", kind: .invalidArgument, "frame \(index) out of range 0..<\(frames)")
        }
        let n = frameSampleCount
        var values = Array(storedValues[(index * n)..<((index + 1) * n)])
        if rescaled && hasRescale && samplesPerPixel == 1 && (rescaleSlope != 1 || rescaleIntercept != 0) {
            let s = rescaleSlope, b = rescaleIntercept
            values.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] = Float(Double(p[i]) * s + b) }
            }
        }
        return Image2D(unchecked: columns, rows, samplesPerPixel == 3 ? 3 : 1, values, spacing: pixelSpacing)
    }

    /// Display values 0...255 for one frame: modality values, then `window` (default: the header's first
    /// window, else the frame's min-max), then inversion for MONOCHROME1. Colour frames are clamped to 0...255.
    public func displayImage(frame index: Int = 0, window: IntensityWindow? = nil) throws(MedImageError) -> Image2D {
        let image = try frame(index, rescaled: true)
        if image.channels == 3 { return Intensity.rescale(image, lower: 0, upper: 255) }
        var out: Image2D
        if let w = window ?? windows.first, w.width > 0 {
            out = Intensity.apply(w, to: image)
        } else {
            out = Intensity.minMaxNormalized(image, scale: 255)
        }
        if isMonochrome1 {
            out.pixels.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] = 255 - p[i] }
            }
        }
        return out
    }
}

/// DICOM reading: Part-10 files (with or without preamble), implicit/explicit VR little endian, explicit VR big
/// endian, deflated explicit VR, native pixel data and RLE Lossless. Other compressed transfer syntaxes are
/// reported with their UID and name.
public enum DICOM {
    /// Reads and decodes a DICOM file.
    public static func read(_ url: URL) throws(MedImageError) -> DICOMImage {
        try decode(readFileData(url), name: MedImageError.label(for: url))
    }

    /// Decodes DICOM bytes. `name` is used in error messages.
    public static func decode(_ data: Data, name: String) throws(MedImageError) -> DICOMImage {
        let ds = try DICOMParser.parse(data, name: name)
        return try makeImage(ds, name: name)
    }

    static func makeImage(_ ds: DICOMDataset, name: String) throws(MedImageError) -> DICOMImage {
        let ts = ds.transferSyntax
        guard ds.elements[DICOMDataset.pixelDataTag] != nil else {
            let sop = ds.string(0x0002_0002) ?? ds.string(0x0008_0016)
            let what = sop == "1.2.840.10008.1.3.10" ? " (a DICOMDIR, Media Storage Directory)" : ""
            throw MedImageError(file: name, kind: .noPixelData, "no pixel data (7FE0,0010)\(what)")
        }
        guard let rows = ds.int(0x0028_0010), let columns = ds.int(0x0028_0011), rows > 0, columns > 0 else {
            throw MedImageError(file: name, kind: .corrupt, "missing or invalid Rows/Columns")
        }
        let samples = ds.int(0x0028_0002) ?? 1
        let bitsAllocated = ds.int(0x0028_0100) ?? 0
        let bitsStored = ds.int(0x0028_0101) ?? bitsAllocated
        let representation = ds.int(0x0028_0103) ?? 0
        let frames = max(ds.int(0x0028_0008) ?? 1, 1)
        let photometric = ds.string(0x0028_0004) ?? (samples == 3 ? "RGB" : "MONOCHROME2")
        guard samples == 1 || samples == 3 else {
            throw MedImageError(file: name, kind: .unsupported, "unsupported SamplesPerPixel \(samples)")
        }
        guard [8, 16, 32].contains(bitsAllocated), bitsStored >= 1, bitsStored <= bitsAllocated else {
            throw MedImageError(file: name, kind: .unsupported,
                                "unsupported BitsAllocated \(bitsAllocated) / BitsStored \(bitsStored)")
        }
        guard let total = checkedProduct([frames, rows, columns, samples]), total < (1 << 34) else {
            throw MedImageError(file: name, kind: .corrupt, "invalid image size \(frames)x\(rows)x\(columns)x\(samples)")
        }
        let bytesPer = bitsAllocated / 8
        let expectedBytes = total * bytesPer
        var planar = ds.int(0x0028_0006) ?? 0
        let native: Data
        let little: Bool
        if ts.isNative {
            guard let pd = ds.pixelData else {
                throw MedImageError(file: name, kind: .corrupt, "encapsulated pixel data in a native transfer syntax")
            }
            guard pd.present >= expectedBytes else {
                throw MedImageError(file: name, kind: .truncated,
                                    "pixel data truncated (expected \(expectedBytes) bytes, found \(pd.present))")
            }
            native = ds.bytes.subdata(in: pd.offset..<(pd.offset + expectedBytes))
            little = ds.littleEndian
        } else if ts == .rleLossless {
            native = try decodeRLE(ds, frames: frames, rows: rows, columns: columns, samples: samples,
                                   bytesPerSample: bytesPer, name: name)
            little = true
            planar = 0
        } else {
            throw MedImageError(file: name, kind: .unsupported,
                                "unsupported DICOM transfer syntax \(ts.uid) (\(ts.name))")
        }
        let type: SampleType
        switch (bitsAllocated, representation) {
        case (8, 0): type = .uint8
        case (8, _): type = .int8
        case (16, 0): type = .uint16
        case (16, _): type = .int16
        case (32, 0): type = .uint32
        default: type = .int32
        }
        var values = [Float](repeating: 0, count: total)
        native.withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer { out in
                type.decode(raw, offset: 0, count: total, littleEndian: little, into: out)
            }
        }
        if bitsStored < bitsAllocated { maskToBitsStored(&values, bitsStored: bitsStored, signed: representation != 0) }
        if samples == 3 && planar == 1 { values = interleavePlanar(values, frames: frames, pixels: rows * columns) }
        if samples == 3 && photometric == "YBR_FULL" { values = ybrFullToRGB(values) }
        let slope = ds.numbers(0x0028_1053).first
        let intercept = ds.numbers(0x0028_1052).first
        let spacingValues = ds.numbers(0x0028_0030).count >= 2 ? ds.numbers(0x0028_0030) : ds.numbers(0x0018_1164)
        var spacing: PixelSpacing?
        if spacingValues.count >= 2, spacingValues[0] > 0, spacingValues[1] > 0 {
            spacing = PixelSpacing(x: spacingValues[1], y: spacingValues[0])
        }
        let ipp = ds.numbers(0x0020_0032)
        let iop = ds.numbers(0x0020_0037)
        let centres = ds.numbers(0x0028_1050)
        let widths = ds.numbers(0x0028_1051)
        let windows = zip(centres, widths).map { IntensityWindow(level: $0, width: $1) }
        func text(_ tag: UInt32) -> String? { ds.string(tag).flatMap { $0.isEmpty ? nil : $0 } }
        return DICOMImage(
            transferSyntax: ts, modality: text(0x0008_0060), sopClassUID: text(0x0008_0016),
            seriesInstanceUID: ds.string(0x0020_000E), instanceNumber: ds.int(0x0020_0013), rows: rows,
            columns: columns, frames: frames, samplesPerPixel: samples, bitsAllocated: bitsAllocated,
            bitsStored: bitsStored, pixelRepresentation: representation, planarConfiguration: planar,
            photometricInterpretation: photometric == "YBR_FULL" ? "RGB" : photometric,
            rescaleSlope: slope ?? 1, rescaleIntercept: intercept ?? 0, hasRescale: slope != nil || intercept != nil,
            pixelSpacing: spacing, imagePositionPatient: ipp.count >= 3 ? SIMD3(ipp[0], ipp[1], ipp[2]) : nil,
            imageOrientationPatient: iop.count >= 6 ? Array(iop.prefix(6)) : nil,
            sliceThickness: ds.numbers(0x0018_0050).first, spacingBetweenSlices: ds.numbers(0x0018_0088).first,
            sliceLocation: ds.numbers(0x0020_1041).first, windows: windows, storedValues: values)
    }

    private static func decodeRLE(_ ds: DICOMDataset, frames: Int, rows: Int, columns: Int, samples: Int,
                                  bytesPerSample: Int, name: String) throws(MedImageError) -> Data
    {
        guard let fragments = ds.fragments, !fragments.isEmpty else {
            throw MedImageError(file: name, kind: .corrupt, "RLE pixel data has no fragments")
        }
        // One fragment per frame (PS3.5 A.4.2); a single frame may span several fragments.
        let frameRanges: [[Range<Int>]] = frames == 1 ? [fragments] : fragments.map { [$0] }
        guard frameRanges.count >= frames else {
            throw MedImageError(file: name, kind: .truncated, "RLE pixel data has \(fragments.count) fragments for \(frames) frames")
        }
        var out = Data()
        for f in 0..<frames {
            var bytes = Data()
            for r in frameRanges[f] { bytes.append(ds.bytes.subdata(in: r)) }
            let decoded = try withBytes(bytes) { (raw) throws(MedImageError) -> [UInt8] in
                try DICOMRLE.decodeFrame(raw, rows: rows, columns: columns, samples: samples,
                                         bytesPerSample: bytesPerSample, name: name)
            }
            out.append(contentsOf: decoded)
        }
        return out
    }

    private static func maskToBitsStored(_ values: inout [Float], bitsStored: Int, signed: Bool) {
        let mask = (Int64(1) << bitsStored) - 1
        let signBit = Int64(1) << (bitsStored - 1)
        values.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                var v = Int64(p[i]) & mask
                if signed && v & signBit != 0 { v -= (mask + 1) }
                p[i] = Float(v)
            }
        }
    }

    private static func interleavePlanar(_ values: [Float], frames: Int, pixels: Int) -> [Float] {
        var out = values
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for f in 0..<frames {
                    let base = f * pixels * 3
                    for c in 0..<3 {
                        for i in 0..<pixels { dst[base + i * 3 + c] = src[base + c * pixels + i] }
                    }
                }
            }
        }
        return out
    }

    /// pydicom's YBR_FULL -> RGB (ITU-R BT.601 full range, float32, +0.5 then floor, clip).
    static func ybrFullToRGB(_ values: [Float]) -> [Float] {
        var out = values
        let g1: Float = -0.114 * 1.772 / 0.587
        let g2: Float = -0.299 * 1.402 / 0.587
        out.withUnsafeMutableBufferPointer { p in
            for i in stride(from: 0, to: p.count - 2, by: 3) {
                let y = p[i], cb = p[i + 1] - 128, cr = p[i + 2] - 128
                p[i] = min(max((y + 1.402 * cr + 0.5).rounded(.down), 0), 255)
                p[i + 1] = min(max((y + g1 * cb + g2 * cr + 0.5).rounded(.down), 0), 255)
                p[i + 2] = min(max((y + 1.772 * cb + 0.5).rounded(.down), 0), 255)
            }
        }
        return out
    }
}
