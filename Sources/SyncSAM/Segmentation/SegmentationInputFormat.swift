import Foundation

/// The file kinds `syncsam segment` reads, recognised from the file's first bytes (extension as a fallback).
public enum SegmentationInputFormat: String, Sendable, Codable, CaseIterable {
    case png
    case jpeg
    /// NIfTI-1 or NIfTI-2, `.nii` or `.nii.gz`.
    case nifti
    /// NRRD with an attached header (`.nrrd`).
    case nrrd
    /// One DICOM file (one frame = a 2-D image, several frames = a volume).
    case dicom
    /// A folder of DICOM files of one series, stacked by position into a volume.
    case dicomSeries = "dicom-series"

    /// What the CLI accepts, for error messages.
    static let supportedList = "PNG, JPEG, NIfTI (.nii/.nii.gz), NRRD (.nrrd), DICOM file or DICOM series folder"

    /// Recognises `url`: a folder is a DICOM series; a file by its magic bytes (PNG signature, JPEG SOI, `DICM` at
    /// offset 128, `NRRD`, the NIfTI-1/-2 magic, gzip with a `.nii.gz` name), else by extension (`.dcm`/`.dicom`
    /// for DICOM without preamble).
    /// - Throws: `.missingFile` when nothing exists at `url`, `.unsupportedType` otherwise.
    public static func detect(_ url: URL) throws(SegmentationInputError) -> SegmentationInputFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .missingFile(url.path)
        }
        if isDirectory.boolValue { return .dicomSeries }
        let head: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            head = try handle.read(upToCount: 352) ?? Data()
        } catch {
            throw .unreadable(path: url.path, reason: "cannot read file (\(error.localizedDescription))")
        }
        if let format = sniff([UInt8](head), name: url.lastPathComponent) { return format }
        let name = url.lastPathComponent.lowercased()
        let ext = url.pathExtension.lowercased()
        switch ext {
        case "dcm", "dicom": return .dicom
        default: break
        }
        if name.hasSuffix(".gz") {
            throw .unsupportedType(path: url.path, detail: "gzip file that is not a NIfTI .nii.gz")
        }
        throw .unsupportedType(path: url.path, detail: ext.isEmpty ? "unrecognised content" : "unrecognised .\(ext) file")
    }

    /// The format from a file's first bytes (up to 352), nil when no signature matches.
    static func sniff(_ b: [UInt8], name: String) -> SegmentationInputFormat? {
        func matches(_ bytes: [UInt8], at offset: Int) -> Bool {
            b.count >= offset + bytes.count && Array(b[offset..<(offset + bytes.count)]) == bytes
        }
        if matches([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], at: 0) { return .png }
        if matches([0xFF, 0xD8, 0xFF], at: 0) { return .jpeg }
        if matches(Array("DICM".utf8), at: 128) { return .dicom }
        if matches(Array("NRRD".utf8), at: 0) { return .nrrd }
        if matches(Array("n+1".utf8) + [0], at: 344) || matches(Array("n+2".utf8) + [0], at: 4) { return .nifti }
        if matches([0x1F, 0x8B], at: 0) && name.lowercased().hasSuffix(".nii.gz") { return .nifti }
        return nil
    }

    /// The file name without its format extension (`ct.nii.gz` -> `ct`, `scan.png` -> `scan`, a series folder's
    /// name unchanged).
    static func stem(of url: URL, format: SegmentationInputFormat) -> String {
        let name = url.lastPathComponent
        if format == .dicomSeries { return name }
        let lower = name.lowercased()
        for suffix in [".nii.gz", ".nii", ".nrrd", ".png", ".jpg", ".jpeg", ".dcm", ".dicom"] where lower.hasSuffix(suffix)
            && lower.count > suffix.count
        {
            return String(name.dropLast(suffix.count))
        }
        return name
    }
}
