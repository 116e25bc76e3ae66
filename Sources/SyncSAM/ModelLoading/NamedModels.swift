import Foundation
import SyncIO
import SyncNN

/// Pretrained models by name (`--model NAME`): `litemedsam`, the default weights from the cache. A fine-tuned
/// decoder (`syncsam eval finetune-decoder`) is laid over a base model with `withDecoder` (`--decoder FILE`); none
/// is shipped under a name, because the fine-tuned LiteMedSAM decoder did not beat zero-shot on every held-out
/// prompt mode (Docs/results/finetune.md).
public enum NamedModels {
    public static let names = ["litemedsam"]

    /// The model called `name`.
    public static func load(_ name: String) throws -> LoadedModel {
        switch name {
        case "litemedsam":
            return try ModelFactory.loadDefault()
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
