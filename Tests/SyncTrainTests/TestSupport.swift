import Foundation
import XCTest

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

    static func data(_ name: String) throws -> URL {
        guard let root else { throw XCTSkip("shared folder not found: set SYNCSAM_SHARED or place shared/ beside the repository") }
        let url = root.appendingPathComponent("data").appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) not present") }
        return url
    }

    static func json(_ url: URL) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: url)) }
}
