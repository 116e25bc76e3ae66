import Foundation
import XCTest

/// Where the tests find their data: the project's shared folder (fixtures, real data) and the weights cache.
/// One place for the rule every test target uses.
public enum TestLocations {
    /// The repository root (this file is `<root>/Tests/SyncTestSupport/SharedFolder.swift`).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `$SYNCSAM_SHARED`, else `shared/` beside the repository; nil when neither exists.
    public static let shared: URL? = {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["SYNCSAM_SHARED"], fm.fileExists(atPath: env) {
            return URL(fileURLWithPath: env)
        }
        let sibling = repository.deletingLastPathComponent().appendingPathComponent("shared")
        return fm.fileExists(atPath: sibling.path) ? sibling : nil
    }()

    /// The shared folder, or a skip naming what to set.
    public static func requireShared() throws -> URL {
        guard let shared else {
            throw XCTSkip("shared folder not found beside \(repository.path); set SYNCSAM_SHARED")
        }
        return shared
    }

    /// `relative` inside the shared folder, or a skip when it is missing.
    public static func requireShared(_ relative: String) throws -> URL {
        let url = try requireShared().appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) not present") }
        return url
    }

    /// LiteMedSAM's `lite_medsam.pth` where scripts/fetch-litemedsam.sh caches it (`$SYNCSAM_CACHE` or
    /// `<repo>/cache`), or a skip.
    public static func liteMedSAMWeights() throws -> URL {
        var candidates: [String] = []
        if let cache = ProcessInfo.processInfo.environment["SYNCSAM_CACHE"] { candidates.append(cache + "/litemedsam/lite_medsam.pth") }
        candidates.append(repository.appendingPathComponent("cache/litemedsam/lite_medsam.pth").path)
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("LiteMedSAM weights not found (looked at \(candidates.joined(separator: ", "))); run scripts/fetch-litemedsam.sh")
        }
        return URL(fileURLWithPath: found)
    }
}
