import Foundation
import MedImage

/// Where the pixels of one mask are stored, relative to the dataset root.
public enum MaskSource: Codable, Sendable, Hashable {
    /// A binary PNG (foreground > 0): SA-Med2D-20M and folder datasets.
    case png(String)
    /// Row `channel` of an IMIS sparse label file (`label/x___<stem>.(C, H, W, 1).npz`).
    case sparseChannel(String, channel: Int)
}

/// One mask of an image: an id unique in the dataset, its source and class.
public struct MaskRecord: Codable, Sendable, Hashable {
    public var id: String
    public var source: MaskSource
    public var classID: Int?
    public var className: String?
    public var instance: Int?

    public init(id: String, source: MaskSource, classID: Int? = nil, className: String? = nil, instance: Int? = nil) {
        self.id = id; self.source = source; self.classID = classID; self.className = className; self.instance = instance
    }
}

/// One image and its masks, with the provenance parsed from the file name where the layout has one.
public struct ImageRecord: Codable, Sendable, Hashable {
    /// Unique in the dataset (the image path relative to the root).
    public var id: String
    public var imagePath: String
    public var masks: [MaskRecord]
    public var modality: String?
    public var dataset: String?
    /// The source volume / case (whole cases are held out by `DatasetSplit.byCase`).
    public var caseID: String?
    public var axis: String?
    public var slice: Int?

    public init(id: String, imagePath: String, masks: [MaskRecord], modality: String? = nil, dataset: String? = nil,
                caseID: String? = nil, axis: String? = nil, slice: Int? = nil) {
        self.id = id; self.imagePath = imagePath; self.masks = masks; self.modality = modality
        self.dataset = dataset; self.caseID = caseID; self.axis = axis; self.slice = slice
    }

    /// The grouping key of a by-case split: `<dataset>/<case>` (the image id when the case is unknown).
    public var caseKey: String {
        guard let caseID else { return id }
        return "\(dataset ?? "")/\(caseID)"
    }
}

/// Typed dataset errors, each naming the file.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case badIndex(file: String, reason: String)
    case badName(String, reason: String)
    case badLabel(file: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let f): return "\(f): file not found"
        case .badIndex(let f, let r): return "\(f): \(r)"
        case .badName(let n, let r): return "\(n): \(r)"
        case .badLabel(let f, let r): return "\(f): \(r)"
        }
    }
}

/// A dataset on disk: the root folder and its image records (built by `SAMed2DDataset`, `IMISDataset`,
/// `FolderDataset`), with an official split when the layout defines one.
public struct DatasetIndex: Codable, Sendable {
    public var name: String
    public var root: URL
    public var records: [ImageRecord]
    /// The layout's own split (IMIS `training` / `test` lists), nil when it has none.
    public var officialSplit: DatasetSplit?

    public init(name: String, root: URL, records: [ImageRecord], officialSplit: DatasetSplit? = nil) {
        self.name = name; self.root = root; self.records = records; self.officialSplit = officialSplit
    }

    public var maskCount: Int { records.reduce(0) { $0 + $1.masks.count } }

    /// The records whose ids are in `ids`, in index order.
    public func records(in ids: [String]) -> [ImageRecord] {
        let wanted = Set(ids)
        return records.filter { wanted.contains($0.id) }
    }

    /// The image of `record` as stored (grey or RGB, 0-255 for 8-bit files).
    public func loadImage(_ record: ImageRecord) throws -> Image2D {
        let url = root.appendingPathComponent(record.imagePath)
        switch url.pathExtension.lowercased() {
        case "jpg", "jpeg": return try JPEGCodec.read(url)
        default: return try PNGCodec.read(url)
        }
    }

    /// The masks of `record` at the given indices (into `record.masks`), at the image's original size.
    /// A sparse label file is decoded once for all requested channels.
    public func loadMasks(_ record: ImageRecord, indices: [Int]) throws -> [BinaryMask] {
        var sparse: [String: SparseLabelFile] = [:]
        return try indices.map { k in
            switch record.masks[k].source {
            case .png(let path):
                return BinaryMask(try PNGCodec.read(root.appendingPathComponent(path)))
            case .sparseChannel(let path, let channel):
                if sparse[path] == nil { sparse[path] = try SparseLabelFile(url: root.appendingPathComponent(path)) }
                return try sparse[path]!.mask(channel: channel)
            }
        }
    }
}
