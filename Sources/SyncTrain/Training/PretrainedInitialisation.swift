import Foundation
import SyncIO
import SyncNN
import SyncSAM
import SyncTensor

/// `--init sam=FILE,cnn=FILE`: the pretrained files a run starts from.
public struct InitSpec: Equatable, Sendable {
    /// A SAM checkpoint (any input size; adapted to the model's, SPEC 1.6).
    public var sam: String?
    /// A torchvision ResNet state dict under its bare names (`conv1.weight`, `layer1.0.bn1.running_mean`, `fc.*`).
    public var cnn: String?

    public init(sam: String? = nil, cnn: String? = nil) { self.sam = sam; self.cnn = cnn }

    /// Parses `sam=FILE,cnn=FILE` (either part may be left out, each at most once).
    public init(parsing text: String) throws {
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { throw TrainingSetupError.badInitSpec(text, reason: "'\(part)' is not KEY=FILE") }
            let key = kv[0].trimmingCharacters(in: .whitespaces), file = String(kv[1])
            guard !file.isEmpty else { throw TrainingSetupError.badInitSpec(text, reason: "no file for '\(key)'") }
            switch key {
            case "sam" where sam == nil: sam = file
            case "cnn" where cnn == nil: cnn = file
            case "sam", "cnn": throw TrainingSetupError.badInitSpec(text, reason: "'\(key)' given twice")
            default: throw TrainingSetupError.badInitSpec(text, reason: "unknown key '\(key)'")
            }
        }
        if sam == nil && cnn == nil { throw TrainingSetupError.badInitSpec(text, reason: "no file given") }
    }
}

/// Initialisation of a model to train from published weights (SPEC 0 "fusion", 1.6, 5.5, 9 #2, #6, #20, #21):
/// the SAM checkpoint loads the ViT, prompt encoder and decoder (adapted the SAM-Med2D way when its input size
/// differs); for a Med-token decoder, SAM's first mask token and hypernetwork MLP become `med_token` / `med_mlp`
/// and the other multimask heads are dropped; a torchvision ResNet file goes under `image_encoder.cnn.` with
/// `fc.*` ignored; finally every fusion `proj` is zero-initialised, so at step 0 the encoder computes SAM's.
public enum PretrainedInitialisation {
    /// What was loaded from where.
    public struct Report: Sendable {
        public var sam: LoadReport?
        public var cnn: LoadReport?
        public var zeroedFusion = false
    }

    /// Parts of a SyncSAM model a SAM checkpoint cannot provide (they start from the model's own initialisation).
    public static let syncSAMOnlyPrefixes = [
        "image_encoder.cnn.", "image_encoder.fusion.", "mask_decoder.compress_vit_feat.", "mask_decoder.embedding_encoder.",
        "mask_decoder.embedding_maskfeature.",
    ]

    /// Applies `spec` to `model`. Each file is checked whole (names, shapes, completeness) before any of it is
    /// copied, so a bad file leaves the parts it would have loaded untouched.
    @discardableResult
    public static func apply(_ spec: InitSpec, to model: any PromptableSegmenter) throws -> Report {
        var report = Report()
        let sync = model as? SyncSAMModel
        if let cnn = spec.cnn {
            guard let sync else { throw TrainingSetupError.badInitSpec("cnn=\(cnn)", reason: "a SAM model has no CNN branch") }
            report.cnn = try loadResNet(cnn, into: sync)
        }
        if let sam = spec.sam { report.sam = try loadSAM(sam, into: model) }
        if let sync, sync.config.cnn != nil {
            sync.zeroFusionProjections()
            report.zeroedFusion = true
        }
        return report
    }

    /// Loads a SAM checkpoint into a SAM or SyncSAM model (adapting its size; Med token from mask token 0).
    public static func loadSAM(_ path: String, into model: any PromptableSegmenter) throws -> LoadReport {
        let map = try tensors(at: path) { $0.contains { $0.hasPrefix("image_encoder.") } }
        guard map.names.contains(where: { $0.hasPrefix("image_encoder.") }) else {
            throw TrainingSetupError.weights(path: path, reason: "not a SAM checkpoint (no image_encoder.* tensors)")
        }
        let config: SyncSAMConfig
        var medToken = false
        if let sync = model as? SyncSAMModel { config = sync.config; medToken = sync.config.switches.medToken }
        else if let sam = model as? SAMModel { config = sam.config }
        else { throw TrainingSetupError.unsupportedModel(String(describing: type(of: model))) }
        var source: TensorSource = map
        if let grid = map.shape(of: "image_encoder.pos_embed")?[1], grid != config.gridSize {
            source = SAMCheckpointAdaptation(map, to: config)
        }
        var options = LoadOptions(allowMissing: model is SyncSAMModel)
        if medToken {
            source = MedTokenFromSAM(base: source)
            options.ignoredPrefixes = SAMCheckpointAdaptation.multimaskHeadKeyParts.map { "mask_decoder.\($0)" }
                + ["mask_decoder.iou_token."]
        }
        let provided = Set(source.tensorNames)
        let lacking = model.store.entries.map(\.name).filter { name in
            !provided.contains(name) && !syncSAMOnlyPrefixes.contains { name.hasPrefix($0) }
        }
        if !lacking.isEmpty {
            throw TrainingSetupError.weights(path: path, reason: "incomplete SAM checkpoint, lacks \(lacking.count) tensor(s): \(lacking.prefix(4).joined(separator: ", "))")
        }
        do { return try model.store.load(from: source, options: options) } catch {
            throw TrainingSetupError.weights(path: path, reason: "\(error)")
        }
    }

    /// Loads a torchvision ResNet state dict (bare names, `fc.*` ignored, `num_batches_tracked` optional) into
    /// the CNN branch. A file already using `image_encoder.cnn.` names is accepted as well.
    public static func loadResNet(_ path: String, into model: SyncSAMModel) throws -> LoadReport {
        let cnnPrefix = "image_encoder.cnn."
        var map = try tensors(at: path) { $0.contains("conv1.weight") || $0.contains("\(cnnPrefix)conv1.weight") }
        if map.names.contains("\(cnnPrefix)conv1.weight") { map = map.strippingPrefix(cnnPrefix) }
        guard map.names.contains("conv1.weight") else {
            throw TrainingSetupError.weights(path: path, reason: "not a torchvision ResNet state dict (no conv1.weight)")
        }
        let provided = Set(map.names)
        let lacking = model.store.entries.map(\.name).filter {
            $0.hasPrefix(cnnPrefix) && !$0.hasSuffix("num_batches_tracked") && !provided.contains(String($0.dropFirst(cnnPrefix.count)))
        }
        if !lacking.isEmpty {
            throw TrainingSetupError.weights(path: path, reason: "ResNet lacks \(lacking.count) tensor(s) of the CNN branch: \(lacking.prefix(4).joined(separator: ", "))")
        }
        let options = LoadOptions(allowMissing: true, renames: [("", cnnPrefix)], ignoredPrefixes: ["\(cnnPrefix)fc."])
        do { return try model.store.load(from: map, options: options) } catch {
            throw TrainingSetupError.weights(path: path, reason: "\(error)")
        }
    }

    /// The tensors of a checkpoint file, unwrapped from `model.` / `state_dict.` / `module.` when `recognised`
    /// fails on the bare names but holds for a wrapper's.
    static func tensors(at path: String, recognised: ([String]) -> Bool) throws -> TensorMap {
        guard FileManager.default.fileExists(atPath: path) else { throw TrainingSetupError.weights(path: path, reason: "file not found") }
        let map: TensorMap
        do { map = try Checkpoint.load(path: path).tensors } catch {
            throw TrainingSetupError.weights(path: path, reason: "\(error)")
        }
        if recognised(map.names) { return map }
        for wrapper in ["model.", "state_dict.", "module.", "model_state_dict."] {
            let inner = map.strippingPrefix(wrapper)
            if recognised(inner.names) { return inner }
        }
        return map
    }
}

/// A SAM checkpoint seen by a Med-token decoder (SPEC 9 #6): adds `mask_decoder.med_token.weight` = row 0 of
/// `mask_tokens` and `mask_decoder.med_mlp.*` = `output_hypernetworks_mlps.0.*` (computed when read).
struct MedTokenFromSAM: TensorSource {
    let base: TensorSource
    static let tokens = "mask_decoder.mask_tokens.weight"
    static let hyper = "mask_decoder.output_hypernetworks_mlps.0."
    static let medToken = "mask_decoder.med_token.weight"
    static let medMLP = "mask_decoder.med_mlp."

    var tensorNames: [String] {
        let names = base.tensorNames
        var extra: [String] = names.contains(Self.tokens) ? [Self.medToken] : []
        extra += names.filter { $0.hasPrefix(Self.hyper) }.map { Self.medMLP + $0.dropFirst(Self.hyper.count) }
        return names + extra
    }

    func origin(_ name: String) -> String? {
        if name == Self.medToken { return Self.tokens }
        if name.hasPrefix(Self.medMLP) { return Self.hyper + name.dropFirst(Self.medMLP.count) }
        return nil
    }

    func shape(of name: String) -> [Int]? {
        guard let o = origin(name) else { return base.shape(of: name) }
        guard let s = base.shape(of: o) else { return nil }
        return o == Self.tokens ? [1, s[1]] : s
    }

    func floatValues(of name: String) throws -> [Float] {
        guard let o = origin(name) else { return try base.floatValues(of: name) }
        let values = try base.floatValues(of: o)
        guard o == Self.tokens, let s = base.shape(of: o) else { return values }
        return Array(values.prefix(s[1]))
    }
}
