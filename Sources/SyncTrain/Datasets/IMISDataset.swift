import Foundation
import MedImage
import SyncIO

/// IMed-361M / IMIS-Bench layout (SPEC 8.2): per dataset folder `dataset.json`, `image/<stem>.png`,
/// `label/x___<stem>.(C, H, W, 1).npz` (scipy CSR of shape (C, H*W), channel k = class k+1). The official split is
/// the `training` / `test` lists of `dataset.json`. Every non-empty channel of an image is one mask.
public enum IMISDataset {
    struct Entry: Decodable { var image: String; var label: String }
    struct Description: Decodable {
        var name: String?
        var modality: [String: String]?
        var labels: [String: String]?
        var training: [Entry]
        var test: [Entry]?
    }

    /// Dense label shape `(C, H, W, 1)` from the text between the last two dots of a label file name.
    public static func labelShape(fromFileName name: String) throws -> (channels: Int, height: Int, width: Int) {
        guard let open = name.lastIndex(of: "("), let close = name.lastIndex(of: ")"), open < close else {
            throw DatasetError.badName(name, reason: "no '(C, H, W, 1)' shape in the label file name")
        }
        let dims = name[name.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count >= 3 else { throw DatasetError.badName(name, reason: "label shape \(dims) is not (C, H, W, 1)") }
        return (dims[0], dims[1], dims[2])
    }

    /// Reads `dataset.json` of the dataset folder `root`; the non-empty channels of each label file are found from
    /// its CSR row pointers (only that small member is decoded).
    public static func index(root: URL) throws -> DatasetIndex {
        let url = root.appendingPathComponent("dataset.json")
        guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.missingFile(url.path) }
        let desc: Description
        do { desc = try JSONDecoder().decode(Description.self, from: Data(contentsOf: url)) } catch {
            throw DatasetError.badIndex(file: url.path, reason: "not an IMIS dataset.json (\(error))")
        }
        let name = desc.name ?? root.lastPathComponent
        let modality = desc.modality?["0"]
        func record(_ e: Entry) throws -> ImageRecord {
            let labelURL = root.appendingPathComponent(e.label)
            let shape = try labelShape(fromFileName: e.label)
            let pointers = try NumPy.readNPZ(path: labelURL.path, names: ["indptr"])["indptr"]!.int64s()
            guard pointers.count == shape.channels + 1 else {
                throw DatasetError.badLabel(file: labelURL.path, reason: "\(pointers.count - 1) CSR rows, name says \(shape.channels)")
            }
            let masks = (0..<shape.channels).filter { pointers[$0 + 1] > pointers[$0] }.map { k in
                MaskRecord(id: "\(e.label)#\(k)", source: .sparseChannel(e.label, channel: k), classID: k + 1,
                           className: desc.labels?[String(k + 1)])
            }
            return ImageRecord(id: e.image, imagePath: e.image, masks: masks, modality: modality, dataset: name)
        }
        let train = try desc.training.map(record)
        let test = try (desc.test ?? []).map(record)
        let split = DatasetSplit(unit: .official, train: train.map(\.id), test: test.map(\.id))
        return DatasetIndex(name: name, root: root, records: train + test, officialSplit: split)
    }
}

/// One IMIS label file decoded to dense channels (`C x (H*W)` bytes) with its image size.
struct SparseLabelFile {
    let dense: DenseMask
    let width: Int
    let height: Int

    init(url: URL) throws {
        let shape = try IMISDataset.labelShape(fromFileName: url.lastPathComponent)
        dense = try NumPy.denseCSR(npzPath: url.path)
        guard dense.rows == shape.channels, dense.columns == shape.height * shape.width else {
            throw DatasetError.badLabel(file: url.path, reason: "CSR \(dense.rows)x\(dense.columns) does not match \(shape)")
        }
        width = shape.width
        height = shape.height
    }

    func mask(channel: Int) throws -> BinaryMask {
        guard channel >= 0 && channel < dense.rows else {
            throw DatasetError.badLabel(file: "label", reason: "channel \(channel) of \(dense.rows)")
        }
        let n = width * height
        return BinaryMask(validWidth: width, height: height, values: Array(dense.values[(channel * n)..<((channel + 1) * n)]))
    }
}
