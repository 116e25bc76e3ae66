import MedImage

/// Why an input could not be loaded or displayed; each description is one line naming the path.
public enum SegmentationInputError: Error, CustomStringConvertible, Equatable {
    /// Nothing exists at the path.
    case missingFile(String)
    /// The file is not one of the supported kinds.
    case unsupportedType(path: String, detail: String)
    /// The file could not be opened.
    case unreadable(path: String, reason: String)
    /// The reader rejected the file (truncated, corrupt, compressed DICOM naming its transfer syntax, ...).
    case reader(MedImageError)
    /// A `--window` value that is neither a preset nor `LEVEL,WIDTH`.
    case badWindow(String)
    /// A request that does not fit the input (slice index out of range, 2-D call on a volume, ...).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .missingFile(let path): return "\(path): no such file or folder"
        case .unsupportedType(let path, let detail):
            return "\(path): unsupported input (\(detail)); expected \(SegmentationInputFormat.supportedList)"
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .reader(let error): return error.description
        case .badWindow(let text):
            return "invalid --window \"\(text)\": expected soft, lung, bone, brain or LEVEL,WIDTH with WIDTH > 0 (e.g. 40,400)"
        case .invalidRequest(let message): return message
        }
    }
}
