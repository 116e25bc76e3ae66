import SyncNN
import SyncTensor

/// A SAM checkpoint seen at another input size, the SAM-Med2D way (SPEC 1.6, SAMMED `build_sam.py::load_from`):
/// `pos_embed` [1, g, g, D] resized bilinearly (align_corners = False) to the target grid G, and the global
/// blocks' `rel_pos_h/w` [2g − 1, d] resized linearly to 2G − 1 rows; windowed tables and everything else pass
/// through unchanged. Optionally drops the multimask heads (`mask_tokens`, `output_hypernetworks_mlps`,
/// `iou_prediction_head`), as SAM-Med2D does when it starts from SAM.
///
/// The adaptation is lazy: only the resized tensors are computed (when read), so wrapping a full checkpoint is
/// free. Load it with `model.load(from:)` into a model built for the target size.
public struct SAMCheckpointAdaptation: TensorSource {
    public let base: TensorSource
    public let gridSize: Int
    public let globalBlocks: Set<Int>
    public let prefix: String
    public let droppedKeyParts: [String]

    /// Names of the multimask heads SAM-Med2D drops.
    public static let multimaskHeadKeyParts = ["mask_tokens", "output_hypernetworks_mlps", "iou_prediction_head"]

    /// - Parameters:
    ///   - source: SAM checkpoint (any input size).
    ///   - config: target configuration (its grid side and global blocks).
    ///   - prefix: name prefix of the ViT (`image_encoder.`).
    ///   - dropMultimaskHeads: drop every key containing `mask_tokens`, `output_hypernetworks_mlps`,
    ///     `iou_prediction_head`.
    public init(_ source: TensorSource, to config: SyncSAMConfig, prefix: String = "image_encoder.",
                dropMultimaskHeads: Bool = false) {
        base = source
        gridSize = config.gridSize
        globalBlocks = Set(config.vit.globalAttnIndexes)
        self.prefix = prefix
        droppedKeyParts = dropMultimaskHeads ? Self.multimaskHeadKeyParts : []
    }

    public var tensorNames: [String] {
        base.tensorNames.filter { name in !droppedKeyParts.contains { name.contains($0) } }
    }

    public func shape(of name: String) -> [Int]? {
        guard let shape = base.shape(of: name) else { return nil }
        switch resizeKind(name, shape) {
        case .posEmbed: return [shape[0], gridSize, gridSize, shape[3]]
        case .relPos: return [2 * gridSize - 1, shape[1]]
        case nil: return shape
        }
    }

    public func floatValues(of name: String) throws -> [Float] {
        let values = try base.floatValues(of: name)
        guard let shape = base.shape(of: name), let kind = resizeKind(name, shape) else { return values }
        return withNoGrad {
            switch kind {
            case .posEmbed:
                return Self.resizedPosEmbed(Tensor(shape: shape, values: values), grid: gridSize).toArray()
            case .relPos:
                return RelativePosition.resized(Tensor(shape: shape, values: values), length: 2 * gridSize - 1).toArray()
            }
        }
    }

    /// pos_embed [1, g, g, D] -> [1, G, G, D], bilinear, align_corners = False, no antialias.
    public static func resizedPosEmbed(_ posEmbed: Tensor, grid: Int) -> Tensor {
        if posEmbed.shape[1] == grid && posEmbed.shape[2] == grid { return posEmbed }
        return posEmbed.permuted([0, 3, 1, 2]).bilinearResized(height: grid, width: grid).permuted([0, 2, 3, 1])
    }

    private enum ResizeKind { case posEmbed, relPos }

    private func resizeKind(_ name: String, _ shape: [Int]) -> ResizeKind? {
        guard name.hasPrefix(prefix) else { return nil }
        let local = name.dropFirst(prefix.count)
        if local == "pos_embed" {
            return shape.count == 4 && (shape[1] != gridSize || shape[2] != gridSize) ? .posEmbed : nil
        }
        // blocks.N.attn.rel_pos_h / rel_pos_w of a global block.
        let parts = local.split(separator: ".")
        guard parts.count == 4, parts[0] == "blocks", let block = Int(parts[1]), parts[2] == "attn",
              parts[3] == "rel_pos_h" || parts[3] == "rel_pos_w", globalBlocks.contains(block),
              shape.count == 2, shape[0] != 2 * gridSize - 1 else { return nil }
        return .relPos
    }
}
