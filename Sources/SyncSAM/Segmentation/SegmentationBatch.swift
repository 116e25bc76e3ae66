import Foundation

/// One input of a batch run and where its outputs go.
public struct BatchItem: Sendable, Equatable {
    public let url: URL
    public let format: SegmentationInputFormat
    /// Output sub-folder name: the file name without its format extension (`case1.nii.gz` -> `case1`), the folder
    /// name for a DICOM series; made unique within the batch by appending the extension (`a_png`, `a_jpg`).
    public let stem: String

    /// `root/<stem>`.
    public func outputDirectory(in root: URL) -> URL { root.appendingPathComponent(stem, isDirectory: true) }
}

/// Batch mode: every supported input of a folder, each segmented with the same prompts into `--out DIR/<stem>/`.
public enum SegmentationBatch {
    /// The supported inputs directly inside `folder`, sorted by name: image and volume files recognised by
    /// content (`SegmentationInputFormat.detect`), and sub-folders holding DICOM files (one series each). Hidden
    /// entries and unsupported files (notes, prompt files) are skipped.
    /// - Throws: `.missingFile` when `folder` does not exist, `.invalidRequest` when it is not a folder or holds no
    ///   supported input.
    public static func items(in folder: URL) throws(SegmentationInputError) -> [BatchItem] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory) else { throw .missingFile(folder.path) }
        guard isDirectory.boolValue else { throw .invalidRequest("\(folder.path): batch input must be a folder") }
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted() } catch {
            throw .unreadable(path: folder.path, reason: "cannot list folder (\(StagedOutputDirectory.reason(error)))")
        }
        var found: [(url: URL, format: SegmentationInputFormat)] = []
        for name in names {
            let url = folder.appendingPathComponent(name)
            var sub: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &sub) else { continue }
            if sub.boolValue {
                if containsDICOM(url) { found.append((url, .dicomSeries)) }
            } else if let format = try? SegmentationInputFormat.detect(url) {
                found.append((url, format))
            }
        }
        guard !found.isEmpty else {
            throw .invalidRequest("\(folder.path): no supported inputs (\(SegmentationInputFormat.supportedList))")
        }
        let stems = found.map { SegmentationInputFormat.stem(of: $0.url, format: $0.format) }
        var counts: [String: Int] = [:]
        for s in stems { counts[s, default: 0] += 1 }
        return zip(found, stems).map { item, stem in
            var unique = stem
            if counts[stem, default: 0] > 1 {
                let suffix = item.url.lastPathComponent.dropFirst(stem.count).replacingOccurrences(of: ".", with: "_")
                unique = stem + (suffix.isEmpty ? "_" + item.format.rawValue : suffix)
            }
            return BatchItem(url: item.url, format: item.format, stem: unique)
        }
    }

    /// True when a folder holds at least one non-hidden file with a DICOM signature.
    static func containsDICOM(_ folder: URL) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names.sorted() where !name.hasPrefix(".") {
            let url = folder.appendingPathComponent(name)
            if (try? SegmentationInputFormat.detect(url)) == .dicom { return true }
        }
        return false
    }
}
