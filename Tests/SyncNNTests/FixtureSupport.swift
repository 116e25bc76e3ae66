import Foundation
import XCTest
import SyncNN
import SyncTensor

/// Locates the shared folder: env `SYNCSAM_SHARED`, else `<repo root>/../shared` (repo root from `#filePath`).
enum Shared {
    static let root: URL? = {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["SYNCSAM_SHARED"], fm.fileExists(atPath: env) {
            return URL(fileURLWithPath: env)
        }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let shared = repo.deletingLastPathComponent().appendingPathComponent("shared")
        return fm.fileExists(atPath: shared.path) ? shared : nil
    }()

    static func require() throws -> URL {
        guard let root else { throw XCTSkip("shared folder not found: set SYNCSAM_SHARED or place shared/ beside the repository") }
        return root
    }

    /// Fixture sets holding a `syncsam.io.safetensors` (discovered, never hard-coded).
    static func syncSAMSets() throws -> [URL] {
        let dir = try require().appendingPathComponent("fixtures")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        let sets = names.map { dir.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("syncsam.io.safetensors").path) }
        if sets.isEmpty { throw XCTSkip("no fixture set with syncsam.io.safetensors in \(dir.path)") }
        return sets
    }
}

/// Minimal safetensors reader for the tests only (F32 / I64 / F64), until SyncIO's reader is merged.
struct TestSafetensors: TensorSource {
    struct Entry { var dtype: String; var shape: [Int]; var start: Int; var end: Int }
    let entries: [String: Entry]
    let names: [String]
    let bytes: Data
    let dataStart: Int

    init(_ url: URL) throws {
        bytes = try Data(contentsOf: url)
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
        var e: [String: Entry] = [:]
        for (k, v) in header where k != "__metadata__" {
            let d = v as! [String: Any]
            let off = d["data_offsets"] as! [Int]
            e[k] = Entry(dtype: d["dtype"] as! String, shape: d["shape"] as! [Int], start: off[0], end: off[1])
        }
        entries = e
        names = e.keys.sorted { e[$0]!.start < e[$1]!.start }
        dataStart = 8 + n
    }

    var tensorNames: [String] { names }
    func shape(of name: String) -> [Int]? { entries[name]?.shape }

    func floatValues(of name: String) throws -> [Float] {
        guard let e = entries[name] else { throw WeightLoadError.missingKeys([name]) }
        let raw = bytes.subdata(in: (dataStart + e.start)..<(dataStart + e.end))
        return raw.withUnsafeBytes { buf -> [Float] in
            switch e.dtype {
            case "F32": return Array(buf.bindMemory(to: Float.self))
            case "F64": return buf.bindMemory(to: Double.self).map { Float($0) }
            case "I64": return buf.bindMemory(to: Int64.self).map { Float($0) }
            default: fatalError("test reader: dtype \(e.dtype) of \(name)")
            }
        }
    }

    func tensor(_ name: String) throws -> Tensor {
        guard let s = shape(of: name) else { throw XCTSkip("fixture lacks \(name)") }
        return Tensor(shape: s, values: try floatValues(of: name))
    }
}

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }
