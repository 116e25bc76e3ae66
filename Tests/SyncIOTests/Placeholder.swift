import XCTest
@testable import SyncIO

final class SyncIOSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
