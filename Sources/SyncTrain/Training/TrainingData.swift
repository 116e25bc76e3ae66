import Foundation

/// The dataset layouts `syncsam train` recognises (SPEC 8).
public enum DatasetLayout: String, Codable, Sendable {
    /// SA-Med2D-20M: `SAMed2D_v1.json` at the root.
    case samed2d
    /// IMed-361M / IMIS-Bench: `dataset.json` at the root, or in each dataset subfolder.
    case imis
    /// A plain folder: `images/` + `masks/`.
    case folder

    /// The layout of the dataset at `root`.
    public static func detect(_ root: URL) throws -> DatasetLayout {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw TrainingSetupError.missingData(root.path)
        }
        if fm.fileExists(atPath: root.appendingPathComponent(SAMed2DDataset.indexFile).path) { return .samed2d }
        if fm.fileExists(atPath: root.appendingPathComponent("dataset.json").path) || !imisSubfolders(root).isEmpty {
            return .imis
        }
        if fm.fileExists(atPath: root.appendingPathComponent("images").path),
           fm.fileExists(atPath: root.appendingPathComponent("masks").path) { return .folder }
        throw TrainingSetupError.unrecognisedDataset(root.path)
    }

    /// Sorted subfolders of `root` holding a `dataset.json` (IMed-361M ships one folder per source dataset).
    static func imisSubfolders(_ root: URL) -> [String] {
        let fm = FileManager.default
        let entries = (try? fm.contentsOfDirectory(atPath: root.path)) ?? []
        return entries.sorted().filter { fm.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent("dataset.json").path) }
    }
}

/// The training data of a run: the dataset index, its train/test split and the training records
/// (SPEC 8.1, 9 #14: the official split where the layout has one, else a seeded image-level 80/20 split saved to
/// `splitFile` on first use and read back by every later run).
public struct TrainingData {
    public let layout: DatasetLayout
    public let index: DatasetIndex
    public let split: DatasetSplit
    public let trainRecords: [ImageRecord]

    public static let testFraction = 0.2

    public init(root: URL, seed: UInt64, splitFile: URL) throws {
        layout = try DatasetLayout.detect(root)
        switch layout {
        case .samed2d: index = try SAMed2DDataset.index(root: root)
        case .folder: index = try FolderDataset.index(root: root)
        case .imis: index = try Self.imisIndex(root)
        }
        if let official = index.officialSplit {
            split = official
            try official.save(splitFile)
        } else {
            let records = index.records
            split = try DatasetSplit.loadOrCreate(at: splitFile) { .byImage(records, testFraction: Self.testFraction, seed: seed) }
        }
        trainRecords = index.records(in: split.train).filter { !$0.masks.isEmpty }
        guard !trainRecords.isEmpty else { throw TrainingSetupError.noTrainingImages(root.path) }
    }

    /// One IMIS dataset folder, or the union of the dataset subfolders of `root` (paths and ids prefixed with the
    /// subfolder, official splits joined).
    static func imisIndex(_ root: URL) throws -> DatasetIndex {
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("dataset.json").path) {
            return try IMISDataset.index(root: root)
        }
        var records: [ImageRecord] = [], train: [String] = [], test: [String] = []
        for sub in DatasetLayout.imisSubfolders(root) {
            let part = try IMISDataset.index(root: root.appendingPathComponent(sub))
            let p = sub + "/"
            for var r in part.records {
                r.id = p + r.id
                r.imagePath = p + r.imagePath
                r.masks = r.masks.map { m in
                    var m = m
                    m.id = p + m.id
                    if case .sparseChannel(let file, let channel) = m.source { m.source = .sparseChannel(p + file, channel: channel) }
                    if case .png(let file) = m.source { m.source = .png(p + file) }
                    return m
                }
                records.append(r)
            }
            train += (part.officialSplit?.train ?? []).map { p + $0 }
            test += (part.officialSplit?.test ?? []).map { p + $0 }
        }
        return DatasetIndex(name: root.lastPathComponent, root: root, records: records,
                            officialSplit: DatasetSplit(unit: .official, train: train, test: test))
    }
}
