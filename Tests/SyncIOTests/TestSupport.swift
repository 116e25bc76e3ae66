import Foundation
import SyncTestSupport
import XCTest
@testable import SyncIO

/// Locates the shared fixtures folder: `$SYNCSAM_SHARED`, else `shared/` in the repository, else `../shared`.
enum SharedFolder {
    static func path() throws -> String {
        let shared = try TestLocations.requireShared()
        guard FileManager.default.fileExists(atPath: shared.appendingPathComponent("fixtures").path) else {
            throw XCTSkip("\(shared.path) has no fixtures folder")
        }
        return shared.path
    }

    static func file(_ relative: String) throws -> String {
        let full = try path() + "/" + relative
        guard FileManager.default.fileExists(atPath: full) else { throw XCTSkip("fixture \(relative) is missing") }
        return full
    }

    static func list(_ relative: String) throws -> [String] {
        let folder = try file(relative)
        return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }
}

/// A fresh temporary directory removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "synciotests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Asserts two tensors have the same dtype, shape and bytes, and bit-identical Float conversions.
func assertSameTensor(_ actual: StoredTensor?, _ expected: StoredTensor, _ name: String,
                      file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { return XCTFail("tensor \(name) is missing", file: file, line: line) }
    XCTAssertEqual(actual.dtype, expected.dtype, "dtype of \(name)", file: file, line: line)
    XCTAssertEqual(actual.shape, expected.shape, "shape of \(name)", file: file, line: line)
    XCTAssertEqual(actual.contiguousBytes(), expected.contiguousBytes(), "bytes of \(name)", file: file, line: line)
    XCTAssertEqual(actual.floats().map(\.bitPattern), expected.floats().map(\.bitPattern), "values of \(name)", file: file, line: line)
}

/// Runs `body` expecting a `CheckpointError`, and returns it.
func expectCheckpointError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> CheckpointError? {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let error as CheckpointError {
        return error
    } catch {
        XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
    }
    return nil
}
