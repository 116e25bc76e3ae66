import Foundation
import SyncTestSupport
import XCTest

/// Locates the shared folder: env `SYNCSAM_SHARED`, else `<repo root>/../shared` (repo root from `#filePath`).
enum Shared {
    static let root: URL? = TestLocations.shared

    static func data(_ name: String) throws -> URL {
        guard let root else { throw XCTSkip("shared folder not found: set SYNCSAM_SHARED or place shared/ beside the repository") }
        let url = root.appendingPathComponent("data").appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) not present") }
        return url
    }

    static func json(_ url: URL) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: url)) }
}
