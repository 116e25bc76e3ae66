import Foundation
import SyncNN
import SyncTensor
import XCTest
@testable import SyncSAM

/// Forward parity with every fixture set of `shared/fixtures` (SyncSAM cases and traces, SAM native and adapted).
final class ParityTests: XCTestCase {
    func testEveryFixtureSetMatchesTheReference() throws {
        let sets = try fixtureSets()
        XCTAssertFalse(sets.isEmpty, "no fixture sets found")
        for dir in sets {
            let runner = ParityRunner(directory: dir, open: openTensorFile)
            let checks = try runner.run()
            XCTAssertFalse(checks.isEmpty, "\(dir.lastPathComponent): no checks ran")
            let worst = checks.max { $0.maxError / max($0.tolerance, 1e-30) < $1.maxError / max($1.tolerance, 1e-30) }
            print("parity \(dir.lastPathComponent): \(checks.count) checks, \(checks.filter(\.passed).count) passed; worst \(worst.map(\.description) ?? "-")")
            for c in checks where !c.passed { XCTFail("\(dir.lastPathComponent): \(c)") }
        }
    }
}
