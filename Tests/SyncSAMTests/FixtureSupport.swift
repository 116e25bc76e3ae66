import Foundation
import SyncIO
import SyncNN
import SyncTestSupport
import XCTest

/// The shared folder (fixtures, real data); skips the test when absent.
func sharedDirectory() throws -> URL { try TestLocations.requireShared() }

/// Fixture sets: every folder of `shared/fixtures` that holds a `syncsam.json` or `sam.json`.
func fixtureSets() throws -> [URL] {
    let root = try sharedDirectory().appendingPathComponent("fixtures")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().map { root.appendingPathComponent($0) }.filter { dir in
        ["syncsam.json", "sam.json"].contains { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }
    }
}

/// Opens fixture tensor files (safetensors or .pth) through SyncIO for the parity runner.
func openTensorFile(_ url: URL) throws -> TensorSource {
    try Checkpoint.load(path: url.path).tensors
}
