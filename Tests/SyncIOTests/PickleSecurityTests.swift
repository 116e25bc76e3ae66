import Foundation
import XCTest
@testable import SyncIO

/// The restricted unpickler: forbidden globals are refused by name, hostile structures fail cleanly.
final class PickleSecurityTests: XCTestCase {
    /// Pickled header of the legacy format: magic number, protocol version 1001, empty sys_info.
    private let legacyPrologue: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
                                           0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E, 0x80, 0x02, 0x7D, 0x2E]

    func testOsSystemIsRefusedWithItsName() throws {
        // os.system("ls") as the main pickle of a legacy checkpoint file.
        let main: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 2, 0, 0, 0] + Array("ls".utf8) + [0x85, 0x52, 0x2E]
        let path = try temporaryDirectory(self) + "/evil.pth"
        try Data(legacyPrologue + main).write(to: URL(fileURLWithPath: path))
        let error = expectCheckpointError { _ = try Checkpoint.load(path: path) }
        XCTAssertEqual(error, .forbiddenGlobal(path: path, module: "os", name: "system"))
        XCTAssertTrue(error?.description.contains("refusing pickle global 'os.system'") ?? false)
        XCTAssertTrue(error?.description.contains("evil.pth") ?? false)

        // STACK_GLOBAL spelling, protocol 4.
        let stackGlobal: [UInt8] = [0x80, 0x04, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("eval".utf8) + [0x93, 0x2E]
        let other = expectCheckpointError { _ = try TorchReaders.decodePickle(stackGlobal) }
        XCTAssertEqual(other, .forbiddenGlobal(path: "<memory>", module: "builtins", name: "eval"))
    }

    func testPlainValuesDecode() throws {
        // {'a': [1, -2, 3.5, None, True], 'b': ('x', 300, 70000), 5: OrderedDict()} in protocol 2.
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28]
        bytes += [0x58, 1, 0, 0, 0, 0x61, 0x5D, 0x28, 0x4B, 1, 0x4A, 0xFE, 0xFF, 0xFF, 0xFF, 0x47]
        bytes += withUnsafeBytes(of: (3.5 as Double).bitPattern.bigEndian) { Array($0) }
        bytes += [0x4E, 0x88, 0x65]
        bytes += [0x8C, 1, 0x62, 0x8C, 1, 0x78, 0x4D, 0x2C, 0x01, 0x8A, 3, 0x70, 0x11, 0x01, 0x87]
        bytes += [0x4B, 5] + Array("ccollections\nOrderedDict\n".utf8) + [0x29, 0x52, 0x75, 0x2E]
        let value = try TorchReaders.decodePickle(bytes)
        guard case let .list(items)? = value["a"], items.count == 5 else { return XCTFail("a: \(value)") }
        guard case .int(1) = items[0], case .int(-2) = items[1], case .float(3.5) = items[2], case .none = items[3],
              case .bool(true) = items[4] else { return XCTFail("a items: \(items)") }
        guard case let .tuple(tuple)? = value["b"], case .string("x") = tuple[0], case .int(300) = tuple[1],
              case .int(70000) = tuple[2] else { return XCTFail("b: \(String(describing: value["b"]))") }
        guard case let .dict(entries) = value, entries.count == 3, case .int(5) = entries[2].key,
              case let .dict(inner) = entries[2].value, inner.isEmpty else { return XCTFail("root: \(value)") }
    }

    func testHostileStructuresFailCleanly() throws {
        // 100,000 nested tuples: deeper than allowed, and must not overflow the stack when released.
        let deepTuples: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        let deep = expectCheckpointError { _ = try TorchReaders.decodePickle(deepTuples) }
        XCTAssertTrue(deep?.description.contains("nested deeper") ?? false, String(describing: deep))

        // A list that contains itself (memo reference): a cycle.
        let cycle: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]
        XCTAssertThrowsError(try TorchReaders.decodePickle(cycle))

        // Exponential sharing: L(n+1) = [L(n), L(n)] 40 times would be 2^40 values once expanded.
        var shared: [UInt8] = [0x80, 0x02, 0x5D]
        for _ in 0..<40 { shared += [0x71, 0x00, 0x68, 0x00, 0x86] }
        shared += [0x2E]
        let explosion = expectCheckpointError { _ = try TorchReaders.decodePickle(shared) }
        XCTAssertNotNil(explosion)

        // Malformed streams: empty, no STOP, stack underflow, unknown opcode, missing memo, bad persistent id.
        let cases: [[UInt8]] = [[], [0x80, 0x02], [0x80, 0x02, 0x2E], [0x80, 0x02, 0x61, 0x2E], [0xFF], [0x80, 0x02, 0x68, 0x07, 0x2E],
                                [0x80, 0x02, 0x4B, 0x01, 0x51, 0x2E], [0x80, 0x02, 0x8A, 0x09] + [UInt8](repeating: 1, count: 9) + [0x2E],
                                [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E], [0x80, 0x02, 0x74, 0x2E], [0x80, 0x02, 0x28, 0x30, 0x2E]]
        for bytes in cases {
            XCTAssertThrowsError(try TorchReaders.decodePickle(bytes), "\(bytes)")
        }
        let opcode = expectCheckpointError { _ = try TorchReaders.decodePickle([0x80, 0x02, 0x97, 0x2E]) }
        XCTAssertEqual(opcode, .unsupportedOpcode(path: "<memory>", opcode: 0x97, offset: 2))
    }
}
