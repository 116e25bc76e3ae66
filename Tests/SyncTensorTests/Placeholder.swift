import XCTest
@testable import SyncTensor

final class SyncTensorSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
