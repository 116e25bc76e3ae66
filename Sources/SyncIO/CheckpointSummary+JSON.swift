// The JSON form of a checkpoint summary (`syncsam inspect --json`).
import Foundation

extension CheckpointSummary {
    /// The summary as JSON objects:
    /// `{"format", "path", "tensors": {name: {"shape", "dtype", "parameter"}}, "parameters": {"total", "tensors"},
    ///   "structure": {"root", "entries": {key: {"kind", "tensors", "entries"?, "value"?}}}, "metadata"}`.
    public func jsonObject() -> [String: Any] {
        var tensorObjects: [String: Any] = [:]
        for info in tensors {
            tensorObjects[info.name] = ["shape": info.shape, "dtype": info.dtype.rawValue, "parameter": info.isParameter]
        }
        var entries: [String: Any] = [:]
        for entry in structure {
            var object: [String: Any] = ["kind": entry.kind, "tensors": entry.tensorCount]
            if let count = entry.entryCount { object["entries"] = count }
            if let value = entry.value { object["value"] = CheckpointSummary.json(value) }
            entries[entry.key] = object
        }
        return [
            "format": format.rawValue,
            "path": path,
            "tensors": tensorObjects,
            "parameters": ["total": parameterCount, "tensors": tensors.filter(\.isParameter).count],
            "structure": ["root": rootKind, "entries": entries],
            "metadata": metadata,
        ]
    }

    /// The summary as JSON text with sorted keys (stable output).
    public func json(pretty: Bool = true) throws -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        let data = try JSONSerialization.data(withJSONObject: jsonObject(), options: options)
        return String(decoding: data, as: UTF8.self)
    }

    /// A JSON-compatible rendering of a pickle value (tensors as `"tensor <dtype> [shape]"`, non-finite floats
    /// and bytes as descriptive strings).
    static func json(_ value: PickleValue) -> Any {
        switch value {
        case .none: return NSNull()
        case let .bool(flag): return flag
        case let .int(number): return number
        case let .float(number): return number.isFinite ? number as Any : String(number)
        case let .string(text): return text
        case let .bytes(bytes): return "<\(bytes.count) bytes>"
        case let .list(items), let .tuple(items): return items.map(json)
        case let .dict(entries):
            var object: [String: Any] = [:]
            for entry in entries { object[entry.key.keyText ?? "?"] = json(entry.value) }
            return object
        case let .tensor(tensor): return "tensor \(tensor.dtype.rawValue) \(tensor.shape)"
        case let .object(type, state): return ["type": type, "state": json(state)]
        case let .global(name): return name
        }
    }
}
