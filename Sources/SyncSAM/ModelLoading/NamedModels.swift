import Foundation
import SyncIO
import SyncNN

/// Pretrained models by name (`--model NAME`): `litemedsam` (the default weights from the cache) and
/// `litemedsam-ft` (the same weights with the mask decoder replaced by the tensors shipped in
/// `Models/litemedsam-ft/mask_decoder.safetensors`, fine-tuned from LiteMedSAM; see Docs/results/finetune.md).
public enum NamedModels {
    public static let names = ["litemedsam", "litemedsam-ft"]

    /// Relative path of the fine-tuned decoder tensors.
    public static let fineTunedDecoderPath = "Models/litemedsam-ft/mask_decoder.safetensors"

    /// Where shipped model files are looked for: `$SYNCSAM_MODELS/..`, the working directory, and the checkout
    /// that holds the executable (`<repo>/.build/<config>/syncsam`).
    public static func shippedFileCandidates(_ relative: String) -> [String] {
        var roots: [String] = []
        if let m = ProcessInfo.processInfo.environment["SYNCSAM_MODELS"] {
            roots.append(URL(fileURLWithPath: m).deletingLastPathComponent().path)
        }
        roots.append(FileManager.default.currentDirectoryPath)
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        roots.append(exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path)
        return roots.map { "\($0)/\(relative)" }
    }

    /// The model called `name`.
    public static func load(_ name: String) throws -> LoadedModel {
        switch name {
        case "litemedsam":
            return try ModelFactory.loadDefault()
        case "litemedsam-ft":
            let candidates = shippedFileCandidates(fineTunedDecoderPath)
            guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw ModelLoadError.weights(path: candidates[0], underlying: CocoaError(.fileNoSuchFile))
            }
            return try withDecoder(try ModelFactory.loadDefault(), from: path, name: name)
        default:
            throw ModelLoadError.unknownConfig(name)
        }
    }

    /// `base` with the tensors of the safetensors file at `path` loaded over its own (names must exist in the
    /// model with the same shapes; tensors the file lacks keep the base values).
    public static func withDecoder(_ base: LoadedModel, from path: String, name: String) throws -> LoadedModel {
        do {
            let (map, _) = try Safetensors.read(path: path)
            try base.model.load(from: map, options: LoadOptions(allowMissing: true))
        } catch { throw ModelLoadError.weights(path: path, underlying: error) }
        return LoadedModel(name: name, family: base.family, model: base.model, configJSON: base.configJSON,
                           hasMultimaskHead: base.hasMultimaskHead)
    }
}
