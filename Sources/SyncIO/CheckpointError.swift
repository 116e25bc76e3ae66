// Typed errors for every reader and writer of this module.

/// An error raised while reading or writing a checkpoint or array file.
///
/// Every case carries the file it concerns (or `"<memory>"` for in-memory input), and its
/// `description` is one human-readable line naming that file and the problem.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened, inspected or mapped (`reason` is the system error text).
    case unreadable(path: String, reason: String)
    /// The file is none of the formats this module reads (PyTorch zip, legacy PyTorch, safetensors).
    case notACheckpoint(path: String)
    /// The file ends before `what` could be read completely.
    case truncated(path: String, what: String)
    /// A header (zip directory, safetensors JSON, .npy dictionary, legacy sys_info) is malformed.
    case badHeader(path: String, reason: String)
    /// The pickle stream is malformed at byte `offset` (relative to the pickle's start).
    case badPickle(path: String, offset: Int, reason: String)
    /// The pickle uses an opcode this restricted reader does not implement.
    case unsupportedOpcode(path: String, opcode: UInt8, offset: Int)
    /// The pickle names a global outside the allow list; loading never executes code.
    case forbiddenGlobal(path: String, module: String, name: String)
    /// A tensor refers to a storage record the archive does not contain.
    case missingStorage(path: String, key: String)
    /// A tensor's shape, strides or offset do not fit in its storage, or its values are inconsistent.
    case badTensor(path: String, name: String, reason: String)
    /// An element type this module cannot represent.
    case unsupportedDType(path: String, dtype: String)
    /// A feature of the format that this reader does not implement (big-endian pickles, encrypted zip...).
    case unsupported(path: String, feature: String)
    /// Writing `path` failed; no partial file is left behind.
    case writeFailed(path: String, reason: String)

    /// One line naming the file and the problem.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read file (\(reason))"
        case let .notACheckpoint(path):
            return "\(path): not a checkpoint (neither a PyTorch zip or legacy file nor safetensors)"
        case let .truncated(path, what):
            return "\(path): file is truncated (\(what))"
        case let .badHeader(path, reason):
            return "\(path): malformed header (\(reason))"
        case let .badPickle(path, offset, reason):
            return "\(path): malformed pickle at byte \(offset) (\(reason))"
        case let .unsupportedOpcode(path, opcode, offset):
            let hex = String(opcode, radix: 16, uppercase: false)
            return "\(path): unsupported pickle opcode 0x\(hex.count == 1 ? "0" + hex : hex) at byte \(offset)"
        case let .forbiddenGlobal(path, module, name):
            return "\(path): refusing pickle global '\(module).\(name)' (only tensor-rebuilding globals are allowed)"
        case let .missingStorage(path, key):
            return "\(path): tensor storage '\(key)' is missing from the archive"
        case let .badTensor(path, name, reason):
            return "\(path): tensor '\(name)' is invalid (\(reason))"
        case let .unsupportedDType(path, dtype):
            return "\(path): unsupported element type '\(dtype)'"
        case let .unsupported(path, feature):
            return "\(path): unsupported feature (\(feature))"
        case let .writeFailed(path, reason):
            return "\(path): cannot write file (\(reason))"
        }
    }
}
