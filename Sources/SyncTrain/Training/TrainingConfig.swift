import SyncNN

/// Everything that defines a training run besides the model and the data (SPEC 0 "training loop", 6.2, 9 #9-#16).
/// Stored in every checkpoint, so a resumed run continues with the same settings.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var epochs: Int = 12
    public var imagesPerBatch: Int = 2
    public var masksPerImage: Int = 5
    public var optimizer: AdamConfig = .paper
    public var schedule: LearningRateSchedule = .paper
    public var loss: SegmentationLossConfig = .paper
    public var simulation: PromptSimulationConfig = .samMed2D
    /// Seeds data order, mask draws and prompt simulation.
    public var seed: UInt64 = 0
    /// Batches loaded ahead on the background thread.
    public var prefetch: Int = 2
    /// Save a checkpoint every this many batches (0: only at the end of each epoch).
    public var checkpointEveryBatches: Int = 0
    /// The trained set; nil: the model's default (`FreezeMode.defaultMode(for:)`). Optional so that checkpoints
    /// written before it existed still decode.
    public var freeze: FreezeMode?

    public init() {}
    /// The paper's recipe (12 epochs, Adam 1e-4, x0.1 at epoch 10, 20 x Dice + Focal, 5 masks per image).
    public static let paper = TrainingConfig()
}
