import Foundation
import SyncTestSupport
import XCTest

@testable import MedImage

/// Locates `/work/shared`-style test data: env `SYNCSAM_SHARED`, else `../shared` beside the repository root
/// (the repository root is three levels above this file).
enum SharedData {
    static let root: URL? = TestLocations.shared

    static func require() throws -> URL {
        guard let root else {
            throw XCTSkip("shared test data not found: set SYNCSAM_SHARED or place shared/ beside the repository")
        }
        return root
    }

    static func readers() throws -> URL { try require().appendingPathComponent("data/readers") }

    /// The `files` array of readers/expected.json.
    static func expectedEntries() throws -> [[String: Any]] {
        let url = try readers().appendingPathComponent("expected.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        return json?["files"] as? [[String: Any]] ?? []
    }

    static func entry(_ path: String) throws -> [String: Any] {
        guard let e = try expectedEntries().first(where: { $0["path"] as? String == path }) else {
            throw XCTSkip("expected.json has no entry \(path)")
        }
        return e
    }
}

/// Float64 statistics of a sample array, as expected.json states them.
struct Stats {
    var min = Double.infinity
    var max = -Double.infinity
    var sum = 0.0
    var count = 0
    var mean: Double { count > 0 ? sum / Double(count) : 0 }

    init(_ values: [Float]) {
        for v in values {
            let d = Double(v)
            if d < min { min = d }
            if d > max { max = d }
            sum += d
        }
        count = values.count
    }
}

func double(_ any: Any?) -> Double? {
    if let n = any as? NSNumber { return n.doubleValue }
    return nil
}

func ints(_ any: Any?) -> [Int]? { (any as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } }

func matrix(_ any: Any?) -> Matrix4? {
    guard let rows = any as? [[Any]] else { return nil }
    return Matrix4(rows: rows.map { $0.compactMap { ($0 as? NSNumber)?.doubleValue } })
}

/// Checks min/max/mean/sum/count against a stats dictionary of expected.json.
func assertStats(_ values: [Float], _ expected: [String: Any]?, _ label: String, meanTolerance: Double = 1e-6,
                 file: StaticString = #filePath, line: UInt = #line)
{
    guard let expected else { return XCTFail("\(label): no expected stats", file: file, line: line) }
    let s = Stats(values)
    XCTAssertEqual(s.count, (expected["n_elements"] as? NSNumber)?.intValue, "\(label) n_elements", file: file, line: line)
    XCTAssertEqual(s.min, double(expected["min"]) ?? .nan, "\(label) min", file: file, line: line)
    XCTAssertEqual(s.max, double(expected["max"]) ?? .nan, "\(label) max", file: file, line: line)
    XCTAssertEqual(s.mean, double(expected["mean"]) ?? .nan, accuracy: meanTolerance * max(1, abs(s.mean)),
                   "\(label) mean", file: file, line: line)
    if meanTolerance <= 1e-6 {
        XCTAssertEqual(s.sum, double(expected["sum"]) ?? .nan, accuracy: 1e-9 * max(1, abs(s.sum)), "\(label) sum",
                       file: file, line: line)
    }
}

/// Minimal safetensors reader for test fixtures: 8-byte LE header length, JSON header, raw little-endian F32 data.
func readSafetensorF32(_ url: URL, key: String) throws -> (shape: [Int], values: [Float]) {
    let data = try Data(contentsOf: url)
    let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any]
    guard let entry = header?[key] as? [String: Any], entry["dtype"] as? String == "F32",
          let shape = ints(entry["shape"]), let offsets = ints(entry["data_offsets"])
    else { throw XCTSkip("safetensors key \(key) missing or not F32") }
    let bytes = data.subdata(in: (8 + n + offsets[0])..<(8 + n + offsets[1]))
    let values = bytes.withUnsafeBytes { raw in
        (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
    return (shape, values)
}

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medimage-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
