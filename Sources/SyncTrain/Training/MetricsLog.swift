import Foundation

/// One optimiser update of the interactive loop, as logged (one JSON object per line).
public struct StepRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var batch: Int
    /// 0 = first prompt (with encoder gradients), 1...8 = decoder-only iterations.
    public var iteration: Int
    /// "box", "point", "clicks" or "mask".
    public var prompt: String
    public var clicks: Int
    public var learningRate: Float
    public var loss: Double
    public var dice: Double
    public var focal: Double
}

/// Appends JSON lines to a file (created if absent); each line is flushed as written.
public final class JSONLWriter {
    private let handle: FileHandle
    private let encoder: JSONEncoder

    public init(url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
    }

    public func append<T: Encodable>(_ value: T) throws {
        var line = try encoder.encode(value)
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }

    deinit { try? handle.close() }
}
