import Foundation
import SyncTestSupport
import XCTest

/// The `syncsam` executable end to end: bad input gives one line on stderr, a non-zero exit and no output
/// files; inspect, convert and parity on the shared fixtures.
final class CLITests: XCTestCase {
    struct Run { let status: Int32; let stdout: String; let stderr: String }

    /// The executable built beside the test bundle.
    func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["SYNCSAM_BIN"] { return URL(fileURLWithPath: path) }
        // The test runner (Linux: <bin>/SyncSAMPackageTests.xctest; Apple: inside the .xctest bundle).
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("syncsam")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw XCTSkip("syncsam executable not built next to the tests (swift build --product syncsam) and SYNCSAM_BIN unset")
    }

    func run(_ args: [String], environment: [String: String]? = nil) throws -> Run {
        let p = Process()
        p.executableURL = try executable()
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("syncsam-cli-\(UUID().uuidString)")
    }

    /// Each case must fail with exactly one stderr line containing `needle` and leave `--out` absent.
    func assertRejected(_ args: [String], mentions needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = temporaryDirectory()
        let r = try run(args + ["--out", out.path])
        XCTAssertNotEqual(r.status, 0, "exit status for \(args)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(needle), "stderr '\(r.stderr)' lacks '\(needle)'", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "output left behind for \(args)", file: file, line: line)
    }

    func testBadInputIsRejectedCleanly() throws {
        let readers = try sharedDirectory().appendingPathComponent("data/readers")
        let png = readers.appendingPathComponent("png/BrainMidSagittalSlice_grey8.png").path
        try assertRejected(["segment", readers.appendingPathComponent("broken/anatomical_truncated.nii").path, "--box", "1,1,5,5"],
                           mentions: "anatomical_truncated.nii")
        try assertRejected(["segment", readers.appendingPathComponent("dicom/no_pixel_data/DICOMDIR").path, "--box", "1,1,5,5"],
                           mentions: "DICOMDIR")
        try assertRejected(["segment", readers.appendingPathComponent("dicom/compressed/JPEG2000_MR_small_jp2klossless.dcm").path,
                            "--box", "1,1,5,5"], mentions: "1.2.840.10008.1.2.4.90")
        try assertRejected(["segment", png, "--box", "10,10,9000,20"], mentions: "outside")
        try assertRejected(["segment", png, "--box", "10,10,10,20"], mentions: "zero area")
        try assertRejected(["segment", png, "--point", "10,10,2"], mentions: "label")
        try assertRejected(["segment", png, "--box", "10,10,50,50", "--checkpoint", "/nonexistent/model.pth"], mentions: "not found")
        try assertRejected(["segment", "/nonexistent/image.png", "--box", "1,1,5,5"], mentions: "/nonexistent/image.png")
    }

    func testInspectReportsFixtureParameterCount() throws {
        let weights = try sharedDirectory().appendingPathComponent("fixtures/tiny/syncsam.weights.pth").path
        let r = try run(["inspect", weights])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("633,248 parameters"), r.stdout)
        XCTAssertTrue(r.stdout.contains("image_encoder.pos_embed"), r.stdout)
        let bad = try run(["inspect", try sharedDirectory().appendingPathComponent("fixtures/pth_cases/bad_not_a_checkpoint.pth").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1)
    }

    func testParityCommandPassesOnEveryFixtureSet() throws {
        for dir in try fixtureSets() {
            let r = try run(["parity", dir.path, "--quiet"])
            XCTAssertEqual(r.status, 0, "\(dir.lastPathComponent): \(r.stdout)\(r.stderr)")
            XCTAssertTrue(r.stdout.contains(" 0 failed"), r.stdout)
        }
    }

    /// The LiteMedSAM layout: tiny set with its own weights, and the real cases with the shipped weights,
    /// including the preprocessing of the original PNGs.
    func testParityCommandHandlesTheLiteMedSAMLayout() throws {
        let dir = try TestLocations.requireShared("fixtures/litemedsam")
        _ = try TestLocations.liteMedSAMWeights()
        var env = ProcessInfo.processInfo.environment
        env["SYNCSAM_CACHE"] = TestLocations.repository.appendingPathComponent("cache").path
        let r = try run(["parity", dir.path], environment: env)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("real.real0.input (preprocessing)"), r.stdout)
        XCTAssertTrue(r.stdout.contains(" 0 failed"), r.stdout)
    }

    func testConvertWritesEqualSafetensors() throws {
        let fixtures = try sharedDirectory().appendingPathComponent("fixtures/tiny")
        let out = temporaryDirectory().appendingPathExtension("safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try run(["convert", fixtures.appendingPathComponent("sam.weights.pth").path, out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try run(["inspect", out.path, "--json"]), b = try run(["inspect", fixtures.appendingPathComponent("sam.weights.safetensors").path, "--json"])
        func tensors(_ s: String) throws -> NSDictionary {
            let obj = try JSONSerialization.jsonObject(with: Data(s.utf8)) as! [String: Any]
            return obj["tensors"] as! NSDictionary
        }
        XCTAssertEqual(try tensors(a.stdout), try tensors(b.stdout))
    }
}
