import Foundation
import SyncNN
import SyncTensor

/// Names, shapes, dtypes and trainable flags of every tensor of a model, with its parameter counts: the layout of
/// `fixtures/manifests.json` (`{"config", "tensors": {name: {"shape", "dtype", "parameter", "trainable"}},
/// "parameters": {"total", "trainable"}}`). Buffers (BatchNorm statistics, the prompt encoder's Gaussian matrix)
/// are listed with `parameter: false` and not counted. `syncsam inspect --config NAME --json` prints it.
public struct ModelManifest: Codable, Sendable, Equatable {
    public struct TensorInfo: Codable, Sendable, Equatable {
        public var shape: [Int]
        /// "float32", or "int64" for BatchNorm's `num_batches_tracked`.
        public var dtype: String
        public var parameter: Bool
        public var trainable: Bool
    }

    public struct Counts: Codable, Sendable, Equatable {
        public var total: Int
        public var trainable: Int
    }

    public var config: SyncSAMConfig
    public var tensors: [String: TensorInfo]
    public var parameters: Counts

    /// The manifest of a built model.
    public init(config: SyncSAMConfig, store: ParameterStore) {
        self.config = config
        var tensors: [String: TensorInfo] = [:]
        var total = 0, trainable = 0
        for entry in store.entries {
            let isParameter = entry.kind == .parameter
            let isTrainable = isParameter && entry.tensor.requiresGrad
            tensors[entry.name] = TensorInfo(shape: entry.tensor.shape,
                                             dtype: entry.name.hasSuffix("num_batches_tracked") ? "int64" : "float32",
                                             parameter: isParameter, trainable: isTrainable)
            if isParameter { total += entry.tensor.count }
            if isTrainable { trainable += entry.tensor.count }
        }
        self.tensors = tensors
        parameters = Counts(total: total, trainable: trainable)
    }

    /// Builds the preset's model (SAM: every parameter trainable; SyncSAM: the paper's frozen set) and lists it.
    public init(preset: ModelPreset) {
        let store: ParameterStore
        switch preset.kind {
        case .sam: store = SAMModel(config: preset.config).store
        case .syncsam: store = SyncSAMModel(config: preset.config).store
        }
        self.init(config: preset.config, store: store)
    }

    /// Key-sorted, pretty JSON.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
