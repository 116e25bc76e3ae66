import Foundation
import SyncTestSupport
import XCTest
import SyncIO
import SyncNN
import SyncTensor

/// Locates the shared folder: env `SYNCSAM_SHARED`, else `<repo root>/../shared` (repo root from `#filePath`).
enum Shared {
    static let root: URL? = TestLocations.shared

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

/// A fixture safetensors file read with SyncIO, seen as a `TensorSource`.
struct FixtureTensors: TensorSource {
    let map: TensorMap

    init(_ url: URL) throws { map = try Safetensors.read(path: url.path).tensors }

    var tensorNames: [String] { map.names }
    func shape(of name: String) -> [Int]? { map[name]?.shape }
    func floatValues(of name: String) throws -> [Float] {
        guard let t = map[name] else { throw WeightLoadError.missingKeys([name]) }
        return t.floats()
    }

    func tensor(_ name: String) throws -> Tensor {
        guard let s = shape(of: name) else { throw XCTSkip("fixture lacks \(name)") }
        return Tensor(shape: s, values: try floatValues(of: name))
    }
}

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }
