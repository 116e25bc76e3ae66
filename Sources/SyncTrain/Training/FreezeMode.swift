import SyncSAM

/// Which parameters a run trains (SPEC 0 "frozen in the paper setting", SPEC 6.5).
public enum FreezeMode: String, Codable, Sendable, CaseIterable {
    /// SyncSAM as in the paper: ViT (incl. neck), prompt encoder, two-way transformer and output_upscaling frozen;
    /// the CNN branch, fusion, Med token/MLP and the multi-scale branch train (`SyncSAMModel.trainablePrefixes`).
    case paper
    /// FT-SAM: only the mask decoder trains.
    case decoder
    /// Full fine-tuning (MedSAM-style): every parameter trains.
    case none

    /// The default for a model: `paper` for SyncSAM, `decoder` (FT-SAM) for SAM.
    public static func defaultMode(for model: any PromptableSegmenter) -> FreezeMode {
        model is SyncSAMModel ? .paper : .decoder
    }

    /// Marks the trainable parameters of `model`; `paper` needs a SyncSAM model.
    public func apply(to model: any PromptableSegmenter) throws {
        switch self {
        case .paper:
            guard let sync = model as? SyncSAMModel else { throw TrainingSetupError.freezeNeedsSyncSAM }
            sync.store.setTrainable(prefixes: sync.config.switches.medToken
                                    ? SyncSAMModel.trainablePrefixes : SyncSAMModel.trainablePrefixes + ["mask_decoder."])
        case .decoder:
            model.store.setTrainable(prefixes: ["mask_decoder."])
        case .none:
            model.store.setTrainable(prefixes: nil)
        }
    }
}
