import XCTest
@testable import SyncSAM

final class SyncSAMSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
