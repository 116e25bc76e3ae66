import ArgumentParser
import Foundation
import SyncIO
import SyncNN
import SyncSAM
import SyncTrain

/// `syncsam parity DIR`: runs every check of a reference fixture directory (`syncsam.*`, `sam.*` and the
/// LiteMedSAM layout) and prints one line per check with its max error and tolerance; non-zero exit on failure.
struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Check the Swift models against a PyTorch fixture directory.")

    @Argument(help: "Fixture directory (e.g. ../shared/fixtures/tiny).") var directory: String
    @Flag(help: "Print only failures and the summary.") var quiet = false

    func run() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            fail("\(directory): not a directory")
        }
        let runner = ParityRunner(directory: URL(fileURLWithPath: directory)) { url in
            try Checkpoint.load(path: url.path).tensors
        }
        runner.suites.append(.syncSAMTraining)
        let checks: [ParityCheck]
        do { checks = try runner.run() } catch { fail("\(directory): \(error)") }
        if checks.isEmpty { fail("\(directory): no fixture files recognised (syncsam.json, sam.json or a LiteMedSAM <set>.json with its .io.safetensors)") }
        for c in checks where !quiet || !c.passed {
            print("\(c.passed ? "ok  " : "FAIL") \(c.name.padding(toLength: 64, withPad: " ", startingAt: 0)) max error \(String(format: "%.3e", c.maxError))  tolerance \(String(format: "%.3e", c.tolerance))")
        }
        let failed = checks.filter { !$0.passed }.count
        print("\(checks.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
