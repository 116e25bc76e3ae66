import Foundation

/// The one error type of MedImage. `description` is a single line naming the file and the problem, for example
/// `CT_small_truncated_in_pixeldata.dcm: pixel data truncated (expected 32768 bytes, found 16384)`.
public struct MedImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, coarsely, so that callers and tests can branch without parsing the message.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be opened, read or written.
        case io
        /// The file ends before the data its header declares.
        case truncated
        /// The bytes are inconsistent (bad magic, corrupt compressed stream, impossible header values).
        case corrupt
        /// A valid file whose encoding, data type or layout this reader does not handle.
        case unsupported
        /// A DICOM file (for example a DICOMDIR) that carries no Pixel Data element.
        case noPixelData
        /// A caller-supplied argument is out of range (empty image, mismatched sizes).
        case invalidArgument
    }

    /// The file's last path component, or a short label such as `<memory>` for in-memory data.
    public let file: String
    public let kind: Kind
    /// The problem, without the file name.
    public let message: String

    public init(file: String, kind: Kind, _ message: String) {
        self.file = file
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

extension MedImageError {
    static func label(for url: URL) -> String { url.lastPathComponent.isEmpty ? url.path : url.lastPathComponent }
}

/// Reads a whole file, mapping Foundation failures to `MedImageError.Kind.io`.
func readFileData(_ url: URL) throws(MedImageError) -> Data {
    do {
        return try Data(contentsOf: url, options: [.mappedIfSafe])
    } catch {
        let name = MedImageError.label(for: url)
        if !FileManager.default.fileExists(atPath: url.path) {
            throw MedImageError(file: name, kind: .io, "file not found")
        }
        throw MedImageError(file: name, kind: .io, "cannot read file (\(error.localizedDescription))")
    }
}

/// Writes `data` atomically: a temporary file in the destination folder, then a rename, so that a failure never
/// leaves a half-written file behind.
func writeFileAtomically(_ data: Data, to url: URL) throws(MedImageError) {
    do {
        try data.write(to: url, options: [.atomic])
    } catch {
        throw MedImageError(file: MedImageError.label(for: url), kind: .io,
                            "cannot write file (\(error.localizedDescription))")
    }
}
