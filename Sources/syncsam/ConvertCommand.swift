import ArgumentParser
import Foundation
import SyncIO

/// `syncsam convert IN OUT`: any checkpoint SyncIO reads (.pth zip or legacy, .safetensors) to safetensors,
/// tensors flattened to dotted names, dtypes kept unless `--float32`.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a PyTorch checkpoint (or a safetensors file) to safetensors.")

    @Argument(help: "Input checkpoint (.pth / .pt / .bin / .safetensors).") var input: String
    @Argument(help: "Output .safetensors file (written atomically).") var output: String
    @Flag(help: "Store every floating-point tensor as float32.") var float32 = false
    @Option(help: "Keep only tensors under this prefix and strip it (e.g. 'model.' of a training checkpoint).")
    var stripPrefix: String?

    func run() throws {
        guard output.hasSuffix(".safetensors") else { fail("output must end in .safetensors: \(output)") }
        let ckpt: Checkpoint
        do { ckpt = try Checkpoint.load(path: input) } catch { fail("\(error)") }
        var map = ckpt.tensors
        if let p = stripPrefix {
            map = map.strippingPrefix(p)
            if map.count == 0 { fail("\(input): no tensor names start with '\(p)'") }
        }
        var items = map.entries
        if float32 {
            items = items.map { e in
                e.tensor.dtype.isFloatingPoint && e.tensor.dtype != .float32
                    ? (e.name, StoredTensor(shape: e.tensor.shape, floats: e.tensor.floats())) : e
            }
        }
        let meta = ["format": "pt", "source": URL(fileURLWithPath: input).lastPathComponent,
                    "source_format": ckpt.format.rawValue]
        do { try Safetensors.write(items, metadata: meta, to: output) } catch { fail("\(error)") }
        print("wrote \(items.count) tensors to \(output)")
    }
}
