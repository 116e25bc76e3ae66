// Element types of stored tensors and their names in the supported file formats.

/// The element type of a tensor as stored in a file. Raw values are the PyTorch dtype names.
public enum StorageDType: String, Sendable, CaseIterable, Codable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// True for the floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }

    /// The safetensors header code (`F32`, `BF16`, `I64`, `BOOL`...).
    public var safetensorsCode: String {
        switch self {
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .float64: return "F64"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    /// The type with safetensors header code `code`, or nil when unknown.
    public init?(safetensorsCode code: String) {
        guard let match = StorageDType.allCases.first(where: { $0.safetensorsCode == code }) else { return nil }
        self = match
    }

    /// The type of a PyTorch typed storage class name (`FloatStorage`, `HalfStorage`, `LongStorage`...).
    init?(torchStorageName name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// The type of a PyTorch dtype global (`torch.float32`, `torch.half`, `torch.long`...).
    init?(torchDTypeName name: String) {
        switch name {
        case "float32", "float": self = .float32
        case "float16", "half": self = .float16
        case "bfloat16": self = .bfloat16
        case "float64", "double": self = .float64
        case "int64", "long": self = .int64
        case "int32", "int": self = .int32
        case "int16", "short": self = .int16
        case "int8": self = .int8
        case "uint8": self = .uint8
        case "bool": self = .bool
        default: return nil
        }
    }
}
