import ArgumentParser

/// `syncsam bench ...`: speed and memory measurements (targets are checked here, never in timed tests).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernels, the encoder, the decoder, segmentation and training steps.",
        subcommands: [BenchOpsCommand.self, BenchEncoderCommand.self, BenchDecoderCommand.self, BenchSegmentCommand.self,
                      BenchLoadCommand.self, BenchTrainCommand.self]
    )
}
