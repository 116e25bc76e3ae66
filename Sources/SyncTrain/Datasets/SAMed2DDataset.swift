import Foundation

/// SA-Med2D-20M v1 layout (SPEC 8.1): `images/*.png`, `masks/*.png`, `SAMed2D_v1.json` (image -> masks) and
/// `SAMed2D_v1_class_mapping_id.json` (dataset -> class name -> id).
///
/// Image names `<modality>--<dataset>--<case>--<axis>_<slice>.png`; mask names
/// `<image stem>--<class id, 4 digits>_<instance, 3 digits>.png`. There is no official split.
public enum SAMed2DDataset {
    public static let indexFile = "SAMed2D_v1.json"
    public static let classMappingFile = "SAMed2D_v1_class_mapping_id.json"

    /// Parsed parts of an image file name.
    public struct ImageName: Equatable, Sendable {
        public var modality: String, dataset: String, caseID: String, axis: String, slice: Int
    }

    /// Parses `<modality>--<dataset>--<case>--<axis>_<slice>` (extension and folder ignored).
    public static func parseImageName(_ name: String) throws -> ImageName {
        let stem = ((name as NSString).lastPathComponent as NSString).deletingPathExtension
        let parts = stem.components(separatedBy: "--")
        guard parts.count == 4 else { throw DatasetError.badName(name, reason: "expected 4 '--'-separated parts, found \(parts.count)") }
        let last = parts[3]
        guard let us = last.lastIndex(of: "_"), let slice = Int(last[last.index(after: us)...]) else {
            throw DatasetError.badName(name, reason: "last part '\(last)' is not <axis>_<slice>")
        }
        return ImageName(modality: parts[0], dataset: parts[1], caseID: parts[2], axis: String(last[..<us]), slice: slice)
    }

    /// Parses the `--<class>_<instance>` suffix of a mask file name.
    public static func parseMaskName(_ name: String) throws -> (classID: Int, instance: Int) {
        let stem = ((name as NSString).lastPathComponent as NSString).deletingPathExtension
        let parts = stem.components(separatedBy: "--")
        guard parts.count == 5 else { throw DatasetError.badName(name, reason: "expected 5 '--'-separated parts, found \(parts.count)") }
        let tail = parts[4].split(separator: "_")
        guard tail.count == 2, let c = Int(tail[0]), let i = Int(tail[1]) else {
            throw DatasetError.badName(name, reason: "mask suffix '\(parts[4])' is not <class>_<instance>")
        }
        return (c, i)
    }

    /// Reads the index of the dataset at `root`. Image order follows the sorted image paths (deterministic).
    public static func index(root: URL, name: String = "SA-Med2D-20M") throws -> DatasetIndex {
        let indexURL = root.appendingPathComponent(indexFile)
        guard FileManager.default.fileExists(atPath: indexURL.path) else { throw DatasetError.missingFile(indexURL.path) }
        guard let map = try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as? [String: [String]] else {
            throw DatasetError.badIndex(file: indexURL.path, reason: "expected an object of image path -> [mask path]")
        }
        var classNames: [String: [Int: String]] = [:]
        let mappingURL = root.appendingPathComponent(classMappingFile)
        if let data = try? Data(contentsOf: mappingURL) {
            guard let mapping = try JSONSerialization.jsonObject(with: data) as? [String: [String: Int]] else {
                throw DatasetError.badIndex(file: mappingURL.path, reason: "expected dataset -> class name -> id")
            }
            for (ds, classes) in mapping { classNames[ds] = Dictionary(classes.map { ($1, $0) }, uniquingKeysWith: min) }
        }
        var records: [ImageRecord] = []
        records.reserveCapacity(map.count)
        for imagePath in map.keys.sorted() {
            let parsed = try parseImageName(imagePath)
            let masks = try map[imagePath]!.sorted().map { m -> MaskRecord in
                let (c, i) = try parseMaskName(m)
                return MaskRecord(id: m, source: .png(m), classID: c, className: classNames[parsed.dataset]?[c], instance: i)
            }
            records.append(ImageRecord(id: imagePath, imagePath: imagePath, masks: masks, modality: parsed.modality,
                                       dataset: parsed.dataset, caseID: parsed.caseID, axis: parsed.axis, slice: parsed.slice))
        }
        return DatasetIndex(name: name, root: root, records: records)
    }
}
