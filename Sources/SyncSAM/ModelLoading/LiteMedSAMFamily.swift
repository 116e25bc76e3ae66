import Foundation
import SyncNN

/// LiteMedSAM (TinyViT + SAM prompt encoder and mask decoder) for the model factory: recognised by the TinyViT
/// names (`image_encoder.layers.*`, `image_encoder.patch_embed.seq.*`), built from its presets, single-mask
/// output (mask token 0) as LiteMedSAM uses it.
enum LiteMedSAMFamily {
    static let family = ModelFactory.Family(
        name: "litemedsam",
        presets: Array(LiteMedSAMConfig.presets.keys).sorted(),
        recognises: { source in
            source.tensorNames.contains { $0.hasPrefix("image_encoder.layers.") }
                && !source.tensorNames.contains { $0.hasPrefix("image_encoder.blocks.") }
        },
        build: { preset, source, seed in
            let config = preset.flatMap { LiteMedSAMConfig.presets[$0] } ?? .liteMedSAM
            let model = try LiteMedSAM(config: config, seed: seed)
            if let source { try model.load(from: source) }
            let json = (try? JSONEncoder().encode(config)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return LoadedModel(name: preset ?? "litemedsam", family: .liteMedSAM, model: model, configJSON: json,
                               hasMultimaskHead: false)
        })
}
