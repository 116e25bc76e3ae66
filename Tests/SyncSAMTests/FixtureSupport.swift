import Foundation
import SyncIO
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

/// Opens fixture tensor files (safetensors or .pth) through SyncIO for the parity runner.
func openTensorFile(_ url: URL) throws -> TensorSource {
    try Checkpoint.load(path: url.path).tensors
}
