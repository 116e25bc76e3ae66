import ArgumentParser
import Foundation

/// `syncsam`: segment medical images with SAM-family models on the CPU, inspect and convert checkpoints,
/// check parity against reference fixtures, benchmark, train and evaluate.
@main
struct SyncSAMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncsam",
        abstract: "Promptable medical image segmentation (SAM, SyncSAM, LiteMedSAM) on the CPU.",
        subcommands: [SegmentCommand.self, EvalCommand.self, TrainCommand.self, ParityCommand.self, InspectCommand.self,
                      ConvertCommand.self, BenchCommand.self]
    )
}

/// Prints one line to stderr and exits non-zero: the CLI's single way of reporting bad input.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(code)
}
