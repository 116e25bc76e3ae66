import ArgumentParser
import Foundation
import SyncIO
import SyncNN
import SyncSAM

/// `syncsam inspect FILE [--json]`: a checkpoint's format, tensors (name, shape, dtype), parameter count and,
/// for nested checkpoints, the top-level structure.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a checkpoint's or a model configuration's tensors and parameter counts.")

    @Argument(help: "Checkpoint file (.pth / .pt / .safetensors).") var file: String?
    @Option(help: "Instead of a file, build this model configuration (\(ModelFactory.presetNames.joined(separator: ", "))) and list it.")
    var config: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        if let config {
            if file != nil { fail("give either a checkpoint file or --config, not both") }
            try inspectConfig(config)
            return
        }
        guard let file else { fail("give a checkpoint file or --config NAME") }
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

    /// Lists a preset's tensors with trainable flags (layout of fixtures/manifests.json).
    private func inspectConfig(_ name: String) throws {
        let manifestData: Data
        if let preset = ModelPreset.named(name) {
            // Names and shapes only: no initial values are computed (deferred initialisation, never loaded).
            manifestData = try ParameterStore.deferringInitialisation { try ModelManifest(preset: preset).jsonData() }
        } else {
            let loaded: LoadedModel
            do { loaded = try ParameterStore.deferringInitialisation { try ModelFactory.random(preset: name) } }
            catch { fail("\(error)") }
            var tensors: [String: Any] = [:]
            var total = 0, trainable = 0
            for e in loaded.model.store.entries {
                let isParameter = e.kind == .parameter
                tensors[e.name] = ["shape": e.tensor.shape, "dtype": e.name.hasSuffix("num_batches_tracked") ? "int64" : "float32",
                                   "parameter": isParameter, "trainable": isParameter && e.tensor.requiresGrad]
                if isParameter { total += e.tensor.count; if e.tensor.requiresGrad { trainable += e.tensor.count } }
            }
            let config = (try? JSONSerialization.jsonObject(with: Data(loaded.configJSON.utf8))) ?? [:]
            manifestData = try JSONSerialization.data(withJSONObject: ["config": config, "tensors": tensors,
                                                                       "parameters": ["total": total, "trainable": trainable]],
                                                      options: [.prettyPrinted, .sortedKeys])
        }
        if json {
            print(String(decoding: manifestData, as: UTF8.self))
            return
        }
        let object = try JSONSerialization.jsonObject(with: manifestData) as! [String: Any]
        let tensors = object["tensors"] as! [String: [String: Any]]
        let counts = object["parameters"] as! [String: Int]
        print("\(name): \(tensors.count) tensors, \(counts["total"]!.formatted(.number.grouping(.automatic))) parameters, \(counts["trainable"]!.formatted(.number.grouping(.automatic))) trainable")
        let width = min(70, tensors.keys.map(\.count).max() ?? 10)
        for key in tensors.keys.sorted() {
            let t = tensors[key]!
            let flags = (t["parameter"] as? Bool == true) ? ((t["trainable"] as? Bool == true) ? "trainable" : "frozen") : "buffer"
            print("  \(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(t["shape"]!)  \(flags)")
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
