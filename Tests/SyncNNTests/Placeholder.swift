import XCTest
@testable import SyncNN

final class SyncNNSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
