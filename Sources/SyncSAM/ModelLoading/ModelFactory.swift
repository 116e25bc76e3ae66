import Foundation
import SyncIO
import SyncNN

/// Model families the product runs, with what the predictor must know about each.
public enum ModelFamily: String, Sendable, Codable {
    case sam, syncsam, liteMedSAM = "litemedsam"

    /// Preprocessing of SPEC section 0 (SAM, SyncSAM) or LiteMedSAM's own.
    public var preprocessing: PreprocessingKind { self == .liteMedSAM ? .liteMedSAM : .sam }
    /// SyncSAM is trained and evaluated with sigmoid mask prompts (SAM-Med2D); SAM and LiteMedSAM take logits.
    public var maskPromptIsProbability: Bool { self == .syncsam }
}

/// A model built and loaded, ready for a `Predictor`.
public struct LoadedModel {
    public let name: String
    public let family: ModelFamily
    public let model: any PromptableSegmenter
    /// The configuration as JSON (embedded in checkpoints the trainer writes).
    public let configJSON: String
    /// Whether the decoder has SAM's mask tokens + IoU head.
    public let hasMultimaskHead: Bool

    public func predictor() -> Predictor {
        Predictor(model: model, preprocessing: family.preprocessing,
                  maskPromptIsProbability: family.maskPromptIsProbability, hasMultimaskHead: hasMultimaskHead)
    }
}

/// Loading failures with context; one line each.
public enum ModelLoadError: Error, CustomStringConvertible {
    case unknownConfig(String)
    case unrecognisedCheckpoint(String)
    case weights(path: String, underlying: Error)
    case noDefaultWeights(expected: String)

    public var description: String {
        switch self {
        case .unknownConfig(let n):
            return "unknown model config '\(n)' (known: \(ModelFactory.presetNames.joined(separator: ", ")))"
        case .unrecognisedCheckpoint(let p):
            return "\(p): not a SAM, SyncSAM or LiteMedSAM checkpoint (no image_encoder.* tensors found)"
        case .weights(let p, let e): return "\(p): \(e)"
        case .noDefaultWeights(let path):
            return "default model weights not found at \(path); run scripts/fetch-litemedsam.sh (or pass --checkpoint FILE)"
        }
    }
}

/// Builds models from presets or checkpoints (SPEC section 0 names are the contract).
public enum ModelFactory {
    /// Hook through which other model families (LiteMedSAM's TinyViT) register: a recogniser over checkpoint
    /// names and a builder for a preset name.
    public struct Family: Sendable {
        public let name: String
        public let presets: [String]
        public let recognises: @Sendable (TensorSource) -> Bool
        public let build: @Sendable (_ preset: String?, _ source: TensorSource?, _ seed: UInt64) throws -> LoadedModel
        public init(name: String, presets: [String], recognises: @escaping @Sendable (TensorSource) -> Bool,
                    build: @escaping @Sendable (String?, TensorSource?, UInt64) throws -> LoadedModel) {
            self.name = name; self.presets = presets; self.recognises = recognises; self.build = build
        }
    }

    /// Extra families (LiteMedSAM).
    public static let families: [Family] = [LiteMedSAMFamily.family]

    public static var presetNames: [String] { ModelPreset.all.map(\.name) + families.flatMap(\.presets) }

    /// Metadata key of the configuration JSON in checkpoints the project writes.
    public static let configMetadataKey = "syncsam.model_config"

    /// A model of preset `name` with seeded random weights (benchmarks, training from scratch).
    public static func random(preset name: String, seed: UInt64 = 0) throws -> LoadedModel {
        if let f = families.first(where: { $0.presets.contains(name) }) { return try f.build(name, nil, seed) }
        guard let p = ModelPreset.named(name) else { throw ModelLoadError.unknownConfig(name) }
        return make(kind: p.kind, config: p.config, name: p.name, seed: seed)
    }

    /// Loads `path` (any format SyncIO reads). The architecture comes from, in order: `config` (a preset name
    /// or a JSON file), the configuration embedded in the checkpoint, or the checkpoint's names and shapes.
    /// A SAM checkpoint of another input size than the config is adapted the SAM-Med2D way (SPEC 1.6).
    public static func load(checkpoint path: String, config: String? = nil) throws -> LoadedModel {
        let ckpt: Checkpoint
        do { ckpt = try Checkpoint.load(path: path) } catch { throw ModelLoadError.weights(path: path, underlying: error) }
        var map = ckpt.tensors
        if !map.names.contains(where: { $0.hasPrefix("image_encoder.") }) {
            for wrapper in ["model.", "state_dict.", "module.", "model_state_dict."] {
                let inner = map.strippingPrefix(wrapper)
                if inner.names.contains(where: { $0.hasPrefix("image_encoder.") }) { map = inner; break }
            }
        }
        // Training checkpoints carry optimiser state beside the weights; it is not part of the model.
        if map.names.contains(where: { $0.hasPrefix("optimizer.") }) {
            map = TensorMap(map.entries.filter { !$0.name.hasPrefix("optimizer.") })
        }
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        let family = families.first { f in config.map { f.presets.contains($0) } ?? f.recognises(map) }
        if let f = family {
            do { return try buildDeferred { try f.build(config, map, 0) } } catch let e as ModelLoadError { throw e } catch {
                throw ModelLoadError.weights(path: path, underlying: error)
            }
        }
        var kind: ModelKind, cfg: SyncSAMConfig
        if let config {
            if let p = ModelPreset.named(config) { kind = p.kind; cfg = p.config }
            else if FileManager.default.fileExists(atPath: config) {
                do { cfg = try SyncSAMConfig.decode(json: try Data(contentsOf: URL(fileURLWithPath: config))) }
                catch { throw ModelLoadError.weights(path: config, underlying: error) }
                kind = cfg.cnn != nil || cfg.variant != nil ? .syncsam : .sam
            } else { throw ModelLoadError.unknownConfig(config) }
        } else if let json = ckpt.metadata[configMetadataKey], let c = try? SyncSAMConfig.decode(json: Data(json.utf8)) {
            cfg = c
            kind = map.names.contains { $0.hasPrefix("mask_decoder.med_token") || $0.hasPrefix("image_encoder.cnn.") } ? .syncsam : .sam
        } else if let inferred = ConfigInference.samFamily(map) {
            (kind, cfg) = (inferred.kind, inferred.config)
        } else {
            throw ModelLoadError.unrecognisedCheckpoint(path)
        }
        var source: TensorSource = map
        let grid = map.shape(of: "image_encoder.pos_embed")?[1]
        if let grid, grid != cfg.gridSize { source = SAMCheckpointAdaptation(map, to: cfg) }
        var options = LoadOptions()
        if kind == .syncsam, !map.names.contains(where: { $0.hasPrefix("image_encoder.cnn.") }) {
            options.allowMissing = true  // a plain SAM checkpoint into SyncSAM: the CNN branch stays random
        }
        do {
            return try buildDeferred {
                let loaded = make(kind: kind, config: cfg, name: config ?? fileName, seed: 0)
                try loaded.model.load(from: source, options: options)
                return loaded
            }
        } catch { throw ModelLoadError.weights(path: path, underlying: error) }
    }

    /// Runs `build` (construct a model, then load it) with deferred initialisation: parameters cost neither
    /// time nor memory until the checkpoint fills them, and only tensors it lacks get their (seeded) initial
    /// values. Whatever the build did not load is initialised before the model is returned.
    private static func buildDeferred(_ build: () throws -> LoadedModel) throws -> LoadedModel {
        let loaded = try ParameterStore.deferringInitialisation(build)
        loaded.model.store.initialisePendingTensors()
        return loaded
    }

    static func make(kind: ModelKind, config: SyncSAMConfig, name: String, seed: UInt64) -> LoadedModel {
        let json = (try? JSONEncoder().encode(config)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        switch kind {
        case .sam:
            return LoadedModel(name: name, family: .sam, model: SAMModel(config: config, seed: seed), configJSON: json,
                               hasMultimaskHead: true)
        case .syncsam:
            return LoadedModel(name: name, family: .syncsam, model: SyncSAMModel(config: config, seed: seed),
                               configJSON: json, hasMultimaskHead: !config.switches.medToken)
        }
    }

    /// Where the default model's weights live: `$SYNCSAM_CACHE/litemedsam/` or `<repo>/cache/litemedsam/`
    /// next to the executable's checkout, safetensors preferred over the original .pth.
    public static func defaultCheckpointCandidates() -> [String] {
        var roots: [String] = []
        if let c = ProcessInfo.processInfo.environment["SYNCSAM_CACHE"] { roots.append(c) }
        roots.append(FileManager.default.currentDirectoryPath + "/cache")
        // The executable sits in <repo>/.build/<config>/syncsam.
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        roots.append(exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/cache")
        return roots.flatMap { ["\($0)/litemedsam/lite_medsam.safetensors", "\($0)/litemedsam/lite_medsam.pth"] }
    }

    /// The default model (LiteMedSAM) from the cache.
    public static func loadDefault() throws -> LoadedModel {
        let candidates = defaultCheckpointCandidates()
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ModelLoadError.noDefaultWeights(expected: candidates[1].replacingOccurrences(of: ".safetensors", with: ".pth"))
        }
        return try load(checkpoint: path, config: "litemedsam")
    }
}
