import XCTest
@testable import MedImage

final class MedImageSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
