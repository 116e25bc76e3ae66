import Foundation
import SyncNN
import XCTest

/// Locates `../shared` next to the repository (or `SYNCSAM_SHARED`); skips the test when absent.
func sharedDirectory() throws -> URL {
    if let env = ProcessInfo.processInfo.environment["SYNCSAM_SHARED"] {
        return URL(fileURLWithPath: env)
    }
    let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    guard FileManager.default.fileExists(atPath: shared.path) else {
        throw XCTSkip("shared folder not found at \(shared.path); set SYNCSAM_SHARED")
    }
    return shared
}

/// Fixture sets: every folder of `shared/fixtures` that holds a `syncsam.json` or `sam.json`.
func fixtureSets() throws -> [URL] {
    let root = try sharedDirectory().appendingPathComponent("fixtures")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().map { root.appendingPathComponent($0) }.filter { dir in
        ["syncsam.json", "sam.json"].contains { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }
    }
}

/// Minimal safetensors reader for the tests (F32, F64, F16, I64, I32), until SyncIO's reader is merged.
struct SafetensorsTestReader: TensorSource {
    struct Entry { let dtype: String; let shape: [Int]; let begin: Int; let end: Int }
    let data: Data
    let dataStart: Int
    let entries: [String: Entry]
    let tensorNames: [String]

    init(url: URL) throws {
        data = try Data(contentsOf: url, options: .mappedIfSafe)
        let n = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self).littleEndian) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        dataStart = 8 + n
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            let v = value as! [String: Any]
            let offsets = v["data_offsets"] as! [Int]
            entries[name] = Entry(dtype: v["dtype"] as! String, shape: v["shape"] as! [Int], begin: offsets[0],
                                  end: offsets[1])
        }
        self.entries = entries
        tensorNames = entries.keys.sorted { entries[$0]!.begin < entries[$1]!.begin }
    }

    func shape(of name: String) -> [Int]? { entries[name]?.shape }

    func floatValues(of name: String) throws -> [Float] {
        guard let e = entries[name] else { throw WeightLoadError.missingKeys([name]) }
        let bytes = data.subdata(in: (dataStart + e.begin)..<(dataStart + e.end))
        return bytes.withUnsafeBytes { raw -> [Float] in
            switch e.dtype {
            case "F32": return Array(raw.bindMemory(to: Float.self))
            case "F64": return raw.bindMemory(to: Double.self).map { Float($0) }
            case "F16": return raw.bindMemory(to: Float16.self).map { Float($0) }
            case "I64": return raw.bindMemory(to: Int64.self).map { Float($0) }
            case "I32": return raw.bindMemory(to: Int32.self).map { Float($0) }
            default: fatalError("unsupported dtype \(e.dtype) for \(name)")
            }
        }
    }
}

/// Opens fixture tensor files for the parity runner (safetensors only in this reader).
func openTensorFile(_ url: URL) throws -> TensorSource {
    guard url.pathExtension == "safetensors" else { throw XCTSkip("no reader for \(url.lastPathComponent) yet") }
    return try SafetensorsTestReader(url: url)
}
