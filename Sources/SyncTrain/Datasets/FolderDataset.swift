import Foundation

/// A plain folder of one's own data: `images/NAME.png` (or .jpg) and `masks/NAME--*.png`, one binary mask per
/// structure. A file name in SA-Med2D form also yields modality / dataset / case; otherwise the case is NAME.
public enum FolderDataset {
    public static func index(root: URL, name: String? = nil) throws -> DatasetIndex {
        let fm = FileManager.default
        let imagesDir = root.appendingPathComponent("images"), masksDir = root.appendingPathComponent("masks")
        guard fm.fileExists(atPath: imagesDir.path) else { throw DatasetError.missingFile(imagesDir.path) }
        guard fm.fileExists(atPath: masksDir.path) else { throw DatasetError.missingFile(masksDir.path) }
        let imageFiles = try fm.contentsOfDirectory(atPath: imagesDir.path)
            .filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        var masksByStem: [String: [String]] = [:]
        for m in try fm.contentsOfDirectory(atPath: masksDir.path) where m.lowercased().hasSuffix(".png") {
            let stem = (m as NSString).deletingPathExtension
            guard let r = stem.range(of: "--", options: .backwards) else { continue }
            masksByStem[String(stem[..<r.lowerBound]), default: []].append(m)
        }
        var records: [ImageRecord] = []
        for file in imageFiles {
            let stem = (file as NSString).deletingPathExtension
            let masks = (masksByStem[stem] ?? []).sorted().map { m -> MaskRecord in
                let parsed = try? SAMed2DDataset.parseMaskName(m)
                return MaskRecord(id: "masks/\(m)", source: .png("masks/\(m)"), classID: parsed?.classID, instance: parsed?.instance)
            }
            guard !masks.isEmpty else { continue }
            let parsed = try? SAMed2DDataset.parseImageName(file)
            records.append(ImageRecord(id: "images/\(file)", imagePath: "images/\(file)", masks: masks,
                                       modality: parsed?.modality, dataset: parsed?.dataset,
                                       caseID: parsed?.caseID ?? stem, axis: parsed?.axis, slice: parsed?.slice))
        }
        return DatasetIndex(name: name ?? root.lastPathComponent, root: root, records: records)
    }
}
