import Foundation
import SyncSAM

/// A SAM or SyncSAM model to train, with the configuration that is embedded in its checkpoints
/// (`TrainingCheckpoint.modelConfigKey`).
public struct TrainableModel {
    public let model: any PromptableSegmenter
    public let kind: ModelKind
    public let config: SyncSAMConfig
    /// Key-sorted JSON of `config`.
    public let configJSON: String

    /// A freshly initialised model (seeded) of the given kind and configuration.
    public init(kind: ModelKind, config: SyncSAMConfig, seed: UInt64 = 0) {
        self.kind = kind
        self.config = config
        switch kind {
        case .sam: model = SAMModel(config: config, seed: seed)
        case .syncsam: model = SyncSAMModel(config: config, seed: seed)
        }
        configJSON = Self.json(config)
    }

    /// `name` is a preset (`syncsam34`, `syncsam50`, `sam_vit_b_256`, ...) or a JSON file holding a configuration
    /// (bare or under `"config"`, like the fixtures' `syncsam.json`).
    public static func resolve(config name: String) throws -> (kind: ModelKind, config: SyncSAMConfig) {
        if let preset = ModelPreset.named(name) { return (preset.kind, preset.config) }
        if ModelFactory.presetNames.contains(name) { throw TrainingSetupError.unsupportedModel(name) }
        guard FileManager.default.fileExists(atPath: name) else { throw ModelLoadError.unknownConfig(name) }
        let config: SyncSAMConfig
        do { config = try SyncSAMConfig.decode(json: Data(contentsOf: URL(fileURLWithPath: name))) } catch {
            throw TrainingSetupError.weights(path: name, reason: "not a model configuration (\(error))")
        }
        return (kind(of: config), config)
    }

    /// SyncSAM when the configuration has a CNN branch or Table 5 switches, SAM otherwise (as `ModelFactory`).
    public static func kind(of config: SyncSAMConfig) -> ModelKind {
        config.cnn != nil || config.variant != nil ? .syncsam : .sam
    }

    static func json(_ config: SyncSAMConfig) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(config)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Parameter count and trainable count under the current frozen set.
    public var parameterCounts: (total: Int, trainable: Int) {
        (model.store.parameterCount, model.store.trainable.reduce(0) { $0 + $1.tensor.count })
    }
}
