// Loading any supported checkpoint file: format sniffing and the flattened tensor view.

/// The on-disk format of a checkpoint.
public enum CheckpointFormat: String, Sendable, Codable {
    /// `torch.save` zip format (PyTorch 1.6 and later).
    case pthZip = "pth-zip"
    /// `torch.save` legacy format (`_use_new_zipfile_serialization=False`, PyTorch before 1.6).
    case pthLegacy = "pth-legacy"
    /// safetensors.
    case safetensors
}

/// A checkpoint file loaded without executing anything: every tensor under a dotted name, plus the decoded
/// pickle (for PyTorch files) describing the rest of its structure (epochs, arguments, optimiser state...).
///
/// Tensors view the memory-mapped file; the mapping lives as long as any tensor of the checkpoint.
public struct Checkpoint: Sendable {
    /// The file the checkpoint was read from.
    public let path: String
    /// The detected format.
    public let format: CheckpointFormat
    /// All tensors, named by joining nested dict keys and list indices with `.` (`model.image_encoder.pos_embed`).
    public let tensors: TensorMap
    /// The decoded pickle of a PyTorch file (nil for safetensors).
    public let structure: PickleValue?
    /// The `__metadata__` map of a safetensors file (empty for PyTorch files).
    public let metadata: [String: String]

    /// Loads `path`, detecting the format from its first bytes (not from its extension).
    public static func load(path: String) throws -> Checkpoint {
        try load(ByteBuffer.map(path: path), path: path)
    }

    /// Loads a checkpoint held in `buffer`; `path` names it in errors.
    static func load(_ buffer: ByteBuffer, path: String) throws -> Checkpoint {
        switch try detectFormat(buffer, path: path) {
        case .pthZip:
            let value = try TorchReaders.readZip(buffer, path: path)
            return Checkpoint(path: path, format: .pthZip, tensors: .flattening(value), structure: value, metadata: [:])
        case .pthLegacy:
            let value = try TorchReaders.readLegacy(buffer, path: path)
            return Checkpoint(path: path, format: .pthLegacy, tensors: .flattening(value), structure: value, metadata: [:])
        case .safetensors:
            let (tensors, metadata) = try Safetensors.read(buffer, path: path)
            return Checkpoint(path: path, format: .safetensors, tensors: tensors, structure: nil, metadata: metadata)
        }
    }

    /// The format of the file at `path`, from its magic bytes; throws `notACheckpoint` for anything else.
    public static func detectFormat(path: String) throws -> CheckpointFormat {
        try detectFormat(ByteBuffer.map(path: path), path: path)
    }

    static func detectFormat(_ buffer: ByteBuffer, path: String) throws -> CheckpointFormat {
        if buffer.count >= 4 {
            let magic = UInt32(littleEndian: buffer.base.loadUnaligned(as: UInt32.self))
            if magic == 0x0403_4B50 || magic == 0x0605_4B50 { return .pthZip }  // "PK\3\4" or an empty zip
        }
        if TorchReaders.isLegacy(buffer) { return .pthLegacy }
        if Safetensors.looksLike(buffer) { return .safetensors }
        throw CheckpointError.notACheckpoint(path: path)
    }
}
