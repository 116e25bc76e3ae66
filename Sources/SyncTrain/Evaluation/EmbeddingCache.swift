import Foundation
import MedImage
import SyncSAM
import SyncTensor

/// Image embeddings by record id, computed once per image (the encoder is the expensive part) and reused by every
/// mask, mode, seed and model that shares the encoder (evaluation, decoder-only fine-tuning with a frozen encoder).
/// Holds the neck output F only (SAM, LiteMedSAM; SyncSAM's stage features are not kept). Values are stored as
/// Float32, or as Float16 with `halfPrecision` (half the memory; relative error ~1e-3, for training sets).
/// With a `directory`, each embedding is also written to / read from one raw little-endian file there, so a
/// second run skips the encoder.
public final class EmbeddingCache: @unchecked Sendable {
    struct Stored {
        var shape: [Int]
        var full: [Float]?
        var half: [Float16]?
    }

    public let halfPrecision: Bool
    public let directory: URL?
    private var stored: [String: Stored] = [:]

    /// - Parameters:
    ///   - directory: a folder for the files (created); its name should identify the model and preprocessing.
    public init(halfPrecision: Bool = false, directory: URL? = nil) throws {
        self.halfPrecision = halfPrecision
        self.directory = directory
        if let directory { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    }

    public var count: Int { stored.count }

    /// The cached embedding of `id` (B = 1), from memory or the directory; nil when neither has it.
    public func embedding(for id: String) throws -> ImageEmbedding? {
        if stored[id] == nil, let url = fileURL(id), FileManager.default.fileExists(atPath: url.path) {
            stored[id] = try Self.read(url, half: halfPrecision)
        }
        guard let s = stored[id] else { return nil }
        let t = Tensor(zeros: s.shape, zeroed: false)
        if let f = s.full {
            f.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: f.count) }
        } else if let h = s.half {
            h.withUnsafeBufferPointer { src in for i in 0..<src.count { t.data[i] = Float(src[i]) } }
        }
        return ImageEmbedding(features: t)
    }

    /// Stores the features of `embedding` (B = 1) under `id` (and writes its file).
    public func insert(_ embedding: ImageEmbedding, for id: String) throws {
        let f = embedding.features
        let values = f.toArray()
        let s = halfPrecision ? Stored(shape: f.shape, half: values.map { Float16($0) })
                              : Stored(shape: f.shape, full: values)
        stored[id] = s
        if let url = fileURL(id) { try Self.write(s, to: url) }
    }

    /// Computes (without a tape) the embedding of every record not cached yet.
    public func fill(model: any PromptableSegmenter, preprocessing: PreprocessingKind, dataset: DatasetIndex,
                     records: [ImageRecord], progress: ((Int, Int) -> Void)? = nil) throws {
        model.store.training = false
        for (n, r) in records.enumerated() {
            if try embedding(for: r.id) == nil {
                let image = try dataset.loadImage(r)
                let t = ImageTransform(kind: preprocessing, width: image.width, height: image.height, inputSize: model.inputSize)
                try insert(try model.embed(image, transform: t), for: r.id)
            }
            progress?(n + 1, records.count)
        }
    }

    /// Drops the in-memory copies (files stay).
    public func removeAll() { stored.removeAll() }

    func fileURL(_ id: String) -> URL? {
        guard let directory else { return nil }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return directory.appendingPathComponent(String(format: "%016llx", h) + (halfPrecision ? ".f16" : ".f32"))
    }

    /// File layout: rank (UInt32), dims (UInt32 each), then the values.
    static func write(_ s: Stored, to url: URL) throws {
        var data = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { data.append(contentsOf: $0) } }
        u32(s.shape.count)
        s.shape.forEach(u32)
        if let f = s.full { f.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) } }
        if let h = s.half { h.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) } }
        try data.write(to: url, options: .atomic)
    }

    static func read(_ url: URL, half: Bool) throws -> Stored {
        let data = try Data(contentsOf: url)
        func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) })) }
        guard data.count >= 4 else { throw DatasetError.badIndex(file: url.path, reason: "truncated embedding file") }
        let rank = u32(0)
        guard rank <= 8, data.count >= 4 * (rank + 1) else { throw DatasetError.badIndex(file: url.path, reason: "bad embedding header") }
        let shape = (0..<rank).map { u32(4 * ($0 + 1)) }
        let n = shape.reduce(1, *), offset = 4 * (rank + 1), width = half ? 2 : 4
        guard data.count == offset + n * width else {
            throw DatasetError.badIndex(file: url.path, reason: "embedding file holds \(data.count - offset) bytes, shape \(shape) needs \(n * width)")
        }
        return data.withUnsafeBytes { raw in
            let body = UnsafeRawBufferPointer(rebasing: raw[offset...])
            if half { return Stored(shape: shape, half: Array(body.bindMemory(to: Float16.self))) }
            return Stored(shape: shape, full: Array(body.bindMemory(to: Float.self)))
        }
    }
}
