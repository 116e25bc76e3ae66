import XCTest
@testable import SyncTrain

final class SyncTrainSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
