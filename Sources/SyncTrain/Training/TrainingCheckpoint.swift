import Foundation
import SyncIO
import SyncNN
import SyncTensor

/// Training checkpoints as one safetensors file: every model parameter and buffer under its checkpoint name,
/// the optimiser state under `optimizer.`, and in the metadata the loop state (`syncsam.training_state`: epoch,
/// next batch, update count, prompt-simulator RNG, training config) and the model config (`syncsam.model_config`).
/// Loading it into a fresh model + trainer continues bit-identically.
public enum TrainingCheckpoint {
    public static let stateKey = "syncsam.training_state"
    public static let modelConfigKey = "syncsam.model_config"
    public static let optimizerPrefix = "optimizer."

    /// Writes the trainer's model, optimiser and loop state to `url` (atomically).
    public static func save(_ trainer: InteractiveTrainer, to url: URL, modelConfigJSON: String? = nil) throws {
        var floats: [(name: String, shape: [Int], values: [Float])] = trainer.model.store.namedTensors.map {
            ($0.0, $0.1.shape, $0.1.toArray())
        }
        floats += trainer.optimizer.stateTensors(prefix: optimizerPrefix).map { ($0.0, $0.1.shape, $0.1.toArray()) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = [stateKey: String(decoding: try encoder.encode(trainer.state), as: UTF8.self)]
        if let modelConfigJSON { metadata[modelConfigKey] = modelConfigJSON }
        try Safetensors.write(floats: floats, metadata: metadata, to: url.path)
    }

    /// Restores model tensors (strict: every model tensor must be present), optimiser state and loop state.
    public static func restore(_ trainer: InteractiveTrainer, from url: URL) throws {
        let (map, metadata) = try Safetensors.read(path: url.path)
        let source = map
        try trainer.model.store.load(from: source, options: LoadOptions(ignoredPrefixes: [optimizerPrefix]))
        try trainer.optimizer.loadState(from: source, prefix: optimizerPrefix)
        guard let text = metadata[stateKey] else {
            throw DatasetError.badIndex(file: url.path, reason: "not a training checkpoint (no \(stateKey) metadata)")
        }
        let state = try JSONDecoder().decode(InteractiveTrainer.State.self, from: Data(text.utf8))
        trainer.apply(state)
    }

    /// The model config JSON stored in a checkpoint, if any.
    public static func modelConfigJSON(at url: URL) throws -> String? {
        try Safetensors.read(path: url.path).metadata[modelConfigKey]
    }

    /// The loop state stored in a checkpoint (its training config included), nil when the file has none.
    /// Reads only the header (the file is memory-mapped).
    public static func state(at url: URL) throws -> InteractiveTrainer.State? {
        guard let text = try Safetensors.read(path: url.path).metadata[stateKey] else { return nil }
        return try JSONDecoder().decode(InteractiveTrainer.State.self, from: Data(text.utf8))
    }
}

extension InteractiveTrainer {
    /// Saves a training checkpoint (see `TrainingCheckpoint`).
    public func save(to url: URL, modelConfigJSON: String? = nil) throws {
        try TrainingCheckpoint.save(self, to: url, modelConfigJSON: modelConfigJSON)
    }

    /// Restores a training checkpoint saved by `save(to:)`.
    public func restore(from url: URL) throws { try TrainingCheckpoint.restore(self, from: url) }
}
