import ArgumentParser
import Foundation
import SyncIO
import SyncNN
import SyncSAM

/// `syncsam bench load`: writes a fp32 checkpoint of a preset with the tool itself (SAM ViT-B by default:
/// 375 MB), then loads it into a fresh model in a child process and reports the load time and the resident
/// memory it took relative to the file size (target: < 2 s and < 1.2x). Also reports how long building the
/// model with seeded random weights took (`ModelFactory.random`, what `inspect --config` and training from scratch
/// pay).
struct BenchLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Checkpoint load time and memory.")

    @Option(help: "Preset whose checkpoint is written and loaded.") var config = "sam_vit_b"
    @Option(help: "Where to write the checkpoint (default: a temporary file, removed afterwards).") var file: String?
    @Flag(help: "Internal: only load FILE and print seconds and RSS (run in a fresh process).") var childLoad = false
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        if childLoad {
            guard let file else { fail("--child-load needs --file") }
            let before = currentResidentMiB()
            let t = BenchClock.seconds { _ = try! ModelFactory.load(checkpoint: file, config: config) }
            print("\(t) \(peakResidentMiB()) \(before)")
            return
        }
        let path = file ?? FileManager.default.temporaryDirectory.appendingPathComponent("syncsam-bench-\(config).safetensors").path
        var built: Result<LoadedModel, Error>?
        let buildSeconds = BenchClock.seconds { built = Result { try ModelFactory.random(preset: config, seed: 3) } }
        do { try built!.get().model.store.save(safetensors: path) } catch { fail("\(error)") }
        defer { if file == nil { try? FileManager.default.removeItem(atPath: path) } }
        let size = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0) / 1_048_576
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        p.arguments = ["bench", "load", "--child-load", "--file", path, "--config", config]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let fields = out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard p.terminationStatus == 0, fields.count == 3 else { fail("load child failed: \(out)") }
        let (seconds, peak, base) = (fields[0], fields[1], fields[2])
        let ratio = (peak - base) / size
        if json {
            print("{\"file_mb\": \(format(size, 1)), \"seconds\": \(format(seconds, 3)), \"peak_rss_mb\": \(format(peak, 1)), \"rss_over_file\": \(format(ratio, 3)), \"random_build_seconds\": \(format(buildSeconds, 3))}")
        } else {
            print("\(config): \(format(size, 1)) MiB fp32 safetensors loaded in \(format(seconds, 3)) s; peak RSS \(format(peak, 1)) MiB (\(format(base, 1)) MiB before) = \(format(ratio, 2))x the file size; random build \(format(buildSeconds, 3)) s")
        }
    }
}
