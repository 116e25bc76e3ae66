import ArgumentParser
import Foundation
import SyncIO

/// `syncsam inspect FILE [--json]`: a checkpoint's format, tensors (name, shape, dtype), parameter count and,
/// for nested checkpoints, the top-level structure.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a checkpoint's tensors and parameter count.")

    @Argument(help: "Checkpoint file (.pth / .pt / .safetensors).") var file: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let summary: CheckpointSummary
        do { summary = try CheckpointSummary.summarize(path: file) } catch { fail("\(error)") }
        if json {
            do { print(try summary.json(pretty: true)) } catch { fail("\(error)") }
            return
        }
        print("\(file): \(summary.format.rawValue), \(summary.tensors.count) tensors, \(summary.parameterCount.formatted(.number.grouping(.automatic))) parameters (buffers not counted)")
        if summary.structure.count > 1 || summary.rootKind != "state_dict" && summary.rootKind != "safetensors" {
            print("structure (\(summary.rootKind)):")
            for e in summary.structure {
                var line = "  \(e.key): \(e.kind)"
                if e.tensorCount > 0 { line += ", \(e.tensorCount) tensors" }
                if let n = e.entryCount { line += ", \(n) entries" }
                if let v = e.value, let text = scalarText(v) { line += " = \(text)" }
                print(line)
            }
        }
        let width = min(70, summary.tensors.map(\.name.count).max() ?? 10)
        for t in summary.tensors {
            let name = t.name.count > width ? t.name : t.name.padding(toLength: width, withPad: " ", startingAt: 0)
            print("  \(name)  \(t.dtype.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(t.shape)\(t.isParameter ? "" : "  (buffer)")")
        }
    }

    private func scalarText(_ v: PickleValue) -> String? {
        switch v {
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .bool(let b): return String(b)
        case .string(let s): return "\"\(s)\""
        case .none: return "None"
        default: return nil
        }
    }
}
