import Foundation
import MedImage

/// One input of `syncsam segment`, loaded with its geometry and its display mapping (issue "Segment medical
/// images from the command line").
///
/// A 2-D input (PNG, JPEG, one-frame DICOM, a NIfTI/NRRD with a single slice) holds its raw `Image2D`; a volume
/// (NIfTI, NRRD, multi-frame DICOM, DICOM series) holds a `Volume` whose affine and spacing the label output
/// keeps. Raw values stay raw (HU for CT); `display` turns them into the 0...255 RGB the model and overlays use.
public struct SegmentationInput: Sendable {
    public enum Content: Sendable {
        case image(Image2D)
        case volume(Volume)
    }

    public let url: URL
    public let format: SegmentationInputFormat
    /// DICOM Modality (`CT`, `MR`, ...); for NIfTI/NRRD `CT` when the values look like HU (see `looksLikeHU`).
    public let modality: String?
    public let content: Content
    /// The intensity mapping chosen for this input (explicit window or the default rule).
    public let display: DisplayIntensity
    /// NIfTI qform/sform codes to write `labels.nii.gz` with: the source's for NIfTI input, 1/1 (scanner) otherwise.
    public let qformCode: Int
    public let sformCode: Int

    /// Loads `url` (file or DICOM series folder).
    /// - Parameters:
    ///   - window: an explicit `--window`; nil = the default rule (see `DisplayIntensity`).
    ///   - timeIndex: which volume of a 4-D NIfTI/NRRD to segment.
    /// - Throws: one-line `SegmentationInputError`s (missing file, unsupported type, reader errors such as a
    ///   compressed DICOM transfer syntax).
    public static func load(_ url: URL, window: IntensityWindow? = nil, timeIndex: Int = 0)
        throws(SegmentationInputError) -> SegmentationInput
    {
        let format = try SegmentationInputFormat.detect(url)
        switch format {
        case .png:
            let data: Data
            do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
                throw .unreadable(path: url.path, reason: "cannot read file (\(error.localizedDescription))")
            }
            let raster = try reading { () throws(MedImageError) in try PNGCodec.decode(data, name: url.lastPathComponent) }
            let image = raster.image
            let rule = raster.bitDepth > 8 ? DisplayIntensity.percentile(of: image.pixels) : .asIs
            return SegmentationInput(url: url, format: format, modality: nil, content: .image(image),
                                     display: window.map { .window($0) } ?? rule)
        case .jpeg:
            let image = try reading { () throws(MedImageError) in try JPEGCodec.read(url) }
            return SegmentationInput(url: url, format: format, modality: nil, content: .image(image),
                                     display: window.map { .window($0) } ?? .asIs)
        case .nifti:
            let file = try reading { () throws(MedImageError) in try NIfTI.read(url) }
            let volume = try reading { () throws(MedImageError) in try file.volume.volume(at: timeIndex) }
            var q = file.header.qformCode, s = file.header.sformCode
            if q <= 0 && s <= 0 { (q, s) = (1, 1) }
            return fromVolume(volume, url: url, format: format, window: window, qformCode: q, sformCode: s)
        case .nrrd:
            let file = try reading { () throws(MedImageError) in try NRRD.read(url) }
            let volume = try reading { () throws(MedImageError) in try file.volume.volume(at: timeIndex) }
            return fromVolume(volume, url: url, format: format, window: window, qformCode: 1, sformCode: 1)
        case .dicom:
            let file = try reading { () throws(MedImageError) in try DICOM.read(url) }
            return try fromDICOM(file, url: url, window: window)
        case .dicomSeries:
            let series = try reading { () throws(MedImageError) in try DICOM.readSeries(folder: url) }
            let first = series.slices.first
            let ct = first?.modality?.uppercased() == "CT"
            let inverted = first?.isMonochrome1 ?? false
            let display: DisplayIntensity = window.map { .window($0, inverted: inverted) }
                ?? (ct ? .window(.softTissue, inverted: inverted) : .percentile(of: series.volume.voxels, inverted: inverted))
            return SegmentationInput(url: url, format: format, modality: first?.modality,
                                     content: .volume(series.volume), display: display)
        }
    }

    init(url: URL, format: SegmentationInputFormat, modality: String?, content: Content, display: DisplayIntensity,
         qformCode: Int = 1, sformCode: Int = 1)
    {
        self.url = url
        self.format = format
        self.modality = modality
        self.content = content
        self.display = display
        self.qformCode = qformCode
        self.sformCode = sformCode
    }

    /// NIfTI / NRRD: a single-slice grid is a 2-D image (slice z = 0), otherwise a volume; CT-looking values get
    /// the soft-tissue window, others percentiles over the whole volume.
    private static func fromVolume(_ volume: Volume, url: URL, format: SegmentationInputFormat,
                                   window: IntensityWindow?, qformCode: Int, sformCode: Int) -> SegmentationInput
    {
        let ct = looksLikeHU(volume.voxels)
        let display: DisplayIntensity = window.map { .window($0) }
            ?? (ct ? .window(IntensityWindow.softTissue) : .percentile(of: volume.voxels))
        let content: Content
        if volume.nz == 1, let slice = try? volume.slice(.z, index: 0) {
            content = .image(slice)
        } else {
            content = .volume(volume)
        }
        return SegmentationInput(url: url, format: format, modality: ct ? "CT" : nil, content: content,
                                 display: display, qformCode: qformCode, sformCode: sformCode)
    }

    /// One DICOM file: one frame -> 2-D image of modality values; several grey frames -> a volume (frames along z,
    /// in-plane spacing from PixelSpacing, 1 mm between frames, axes as LPS).
    private static func fromDICOM(_ file: DICOMImage, url: URL, window: IntensityWindow?)
        throws(SegmentationInputError) -> SegmentationInput
    {
        let colour = file.samplesPerPixel == 3
        let inverted = file.isMonochrome1 && !colour
        let ct = file.modality?.uppercased() == "CT"
        if file.frames == 1 {
            let image = try reading { () throws(MedImageError) in try file.frame(0, rescaled: true) }
            let display: DisplayIntensity = window.map { .window($0, inverted: inverted) }
                ?? (colour ? .asIs : (ct ? .window(.softTissue, inverted: inverted)
                    : .percentile(of: image.pixels, inverted: inverted)))
            return SegmentationInput(url: url, format: .dicom, modality: file.modality, content: .image(image),
                                     display: display)
        }
        guard !colour else {
            throw .unsupportedType(path: url.path, detail: "multi-frame colour DICOM (\(file.frames) frames)")
        }
        var voxels: [Float] = []
        voxels.reserveCapacity(file.frameSampleCount * file.frames)
        for f in 0..<file.frames {
            voxels += try reading { () throws(MedImageError) in try file.frame(f, rescaled: true) }.pixels
        }
        let sx = file.pixelSpacing?.x ?? 1, sy = file.pixelSpacing?.y ?? 1
        let lps = Matrix4(rowMajor: [sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        let volume = try reading { () throws(MedImageError) in
            try Volume(nx: file.columns, ny: file.rows, nz: file.frames, voxels: voxels, spacing: SIMD3(sx, sy, 1),
                       affine: lps.flippedLR_AP)
        }
        let display: DisplayIntensity = window.map { .window($0, inverted: inverted) }
            ?? (ct ? .window(.softTissue, inverted: inverted) : .percentile(of: voxels, inverted: inverted))
        return SegmentationInput(url: url, format: .dicom, modality: file.modality, content: .volume(volume),
                                 display: display)
    }

    /// Runs a MedImage reader, turning its error into `.reader`.
    static func reading<T>(_ body: () throws(MedImageError) -> T) throws(SegmentationInputError) -> T {
        do { return try body() } catch { throw .reader(error) }
    }

    /// CT heuristic for formats without a modality tag: nothing below -3100 (scanner padding is -1024, -2048 or
    /// -3024) and at least 0.5 % of the values at or below -500, i.e. air (about -1000 HU) outside or inside the
    /// body. MR data with a few negative interpolation overshoots (SPM-normalised T1: minimum -610, 0.006 % below
    /// -500) does not qualify.
    public static func looksLikeHU(_ values: [Float]) -> Bool {
        guard !values.isEmpty else { return false }
        var lowest = Float.infinity
        var air = 0
        values.withUnsafeBufferPointer { p in
            for v in p {
                if v < lowest { lowest = v }
                if v <= -500 { air += 1 }
            }
        }
        return lowest >= -3100 && air * 200 >= values.count
    }

    // MARK: - Access

    public var isVolume: Bool {
        if case .volume = content { return true }
        return false
    }

    /// The raw volume, nil for 2-D input.
    public var volume: Volume? {
        if case .volume(let v) = content { return v }
        return nil
    }

    /// The raw 2-D image, nil for a volume.
    public var image: Image2D? {
        if case .image(let i) = content { return i }
        return nil
    }

    /// Pixel size (mm) of the 2-D image, or in-plane of axial (z) slices of a volume; nil when unknown.
    public var pixelSpacing: PixelSpacing? {
        switch content {
        case .image(let i): return i.spacing
        case .volume(let v): return PixelSpacing(x: v.spacing.x, y: v.spacing.y)
        }
    }

    /// The 2-D input's display image (RGB, 0...255).
    public func displayImage() throws(SegmentationInputError) -> Image2D {
        guard let image else {
            throw .invalidRequest("\(url.lastPathComponent) is a volume: choose a slice (axis and index)")
        }
        return display.apply(image)
    }

    /// Number of slices of a volume along `axis` (1 for 2-D input).
    public func sliceCount(_ axis: VolumeAxis) -> Int {
        guard let v = volume else { return 1 }
        return VolumePropagation.extent(of: v, along: axis)
    }

    /// Display image (RGB, 0...255) of slice `index` along `axis`, with the volume-wide mapping.
    public func displaySlice(_ axis: VolumeAxis, index: Int) throws(SegmentationInputError) -> Image2D {
        guard let v = volume else {
            throw .invalidRequest("\(url.lastPathComponent) is a 2-D image: it has no slices")
        }
        return try VolumePropagation.displaySlice(of: v, axis: axis, index: index, display: display)
    }
}
