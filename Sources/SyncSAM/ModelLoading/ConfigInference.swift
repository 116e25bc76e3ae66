import SyncNN

/// Reads a SAM / SyncSAM configuration off a checkpoint's tensor names and shapes, so that users can pass any
/// checkpoint without naming its size (SPEC 1.2, 2.1, 3.5, 5.2 give the name/shape contract).
/// Heads cannot be read off weights directly: they follow from the rel-pos table width (= head dim) for the
/// ViT and default to SAM's 8 for the decoder.
public enum ConfigInference {
    /// A configuration matching `source`, or nil when it holds no SAM-style image encoder.
    public static func samFamily(_ source: TensorSource) -> (kind: ModelKind, config: SyncSAMConfig)? {
        guard let pos = source.shape(of: "image_encoder.pos_embed"), pos.count == 4,
              let patch = source.shape(of: "image_encoder.patch_embed.proj.weight"), patch.count == 4 else { return nil }
        let names = source.tensorNames
        let dim = pos[3], grid = pos[1], p = patch[2]
        let depth = count(names, prefix: "image_encoder.blocks.")
        let headDim = source.shape(of: "image_encoder.blocks.0.attn.rel_pos_h")?[1] ?? 64
        let mlp = source.shape(of: "image_encoder.blocks.0.mlp.lin1.weight")?[0] ?? 4 * dim
        let outChans = source.shape(of: "image_encoder.neck.0.weight")?[0] ?? 256
        // Windowed blocks have tables of 2w - 1; global ones 2g - 1 at the checkpoint's own grid.
        var lengths: [Int] = []
        for b in 0..<depth { lengths.append(source.shape(of: "image_encoder.blocks.\(b).attn.rel_pos_h")?[0] ?? 0) }
        let globalLength = 2 * grid - 1
        var globals = lengths.enumerated().filter { $0.element == globalLength }.map(\.offset)
        var window = (lengths.first { $0 != globalLength } ?? 27 + 1) / 2 + 1
        if globals.isEmpty || globals.count == depth {
            globals = depth == 12 ? [2, 5, 8, 11] : Array(stride(from: depth / 4 - 1, to: depth, by: max(depth / 4, 1)))
            window = depth == 12 ? 14 : window
        }
        let vit = ViTConfig(patchSize: p, embedDim: dim, depth: depth, numHeads: max(dim / max(headDim, 1), 1),
                            mlpRatio: Double(mlp) / Double(dim), windowSize: window, globalAttnIndexes: globals,
                            outChans: outChans)
        let promptDim = source.shape(of: "prompt_encoder.point_embeddings.0.weight")?[1] ?? outChans
        let maskIn = source.shape(of: "prompt_encoder.mask_downscaling.3.weight")?[0] ?? 16
        let prompt = PromptConfig(embedDim: promptDim, maskInChans: maskIn)
        let tDepth = count(names, prefix: "mask_decoder.transformer.layers.")
        let mlpDim = source.shape(of: "mask_decoder.transformer.layers.0.mlp.lin1.weight")?[0] ?? 2048
        let decoder = DecoderConfig(transformerDepth: max(tDepth, 1), numHeads: 8, mlpDim: mlpDim)
        var config = SyncSAMConfig(imageSize: grid * p, vit: vit, prompt: prompt, decoder: decoder)
        let isSync = names.contains { $0.hasPrefix("image_encoder.cnn.") || $0.hasPrefix("mask_decoder.med_token") }
        if names.contains(where: { $0.hasPrefix("image_encoder.cnn.") }) { config.cnn = resnet(source) }
        if isSync {
            let variant = Variant(vit: depth > 0, fusion: .synchronized,
                                  multiScale: names.contains { $0.hasPrefix("mask_decoder.compress_vit_feat.") },
                                  medToken: names.contains { $0.hasPrefix("mask_decoder.med_token") })
            if variant != Variant() { config.variant = variant }
            return (.syncsam, config)
        }
        return (.sam, config)
    }

    /// The ResNet branch under `image_encoder.cnn.` (torchvision names).
    static func resnet(_ source: TensorSource) -> ResNetConfig {
        let names = source.tensorNames
        let bottleneck = names.contains { $0.hasPrefix("image_encoder.cnn.layer1.0.conv3.") }
        var layers: [Int] = [], widths: [Int] = []
        for l in 1...4 {
            layers.append(count(names, prefix: "image_encoder.cnn.layer\(l)."))
            widths.append(source.shape(of: "image_encoder.cnn.layer\(l).0.conv1.weight")?[0] ?? 64 << (l - 1))
        }
        return ResNetConfig(block: bottleneck ? .bottleneck : .basic, layers: layers, widths: widths)
    }

    /// Number of distinct integer indices right after `prefix` (blocks.0, blocks.1, ...).
    static func count(_ names: [String], prefix: String) -> Int {
        var seen = Set<Int>()
        for n in names where n.hasPrefix(prefix) {
            let rest = n.dropFirst(prefix.count)
            if let i = Int(rest.prefix { $0.isNumber }) { seen.insert(i) }
        }
        return seen.count
    }
}
