/// Why a training run cannot start; each description is one line naming the file or option at fault.
public enum TrainingSetupError: Error, CustomStringConvertible, Equatable {
    case missingData(String)
    case unrecognisedDataset(String)
    case noTrainingImages(String)
    case unsupportedModel(String)
    case badInitSpec(String, reason: String)
    case weights(path: String, reason: String)
    case notTrainingCheckpoint(String)
    case architectureMismatch(path: String, detail: String)
    case freezeNeedsSyncSAM
    case settingConflict(option: String, given: String, stored: String)

    public var description: String {
        switch self {
        case .missingData(let p): return "\(p): data directory not found"
        case .unrecognisedDataset(let p):
            return "\(p): no dataset layout recognised (expected SAMed2D_v1.json, dataset.json in it or its subfolders, or images/ + masks/)"
        case .noTrainingImages(let p): return "\(p): no training images with masks"
        case .unsupportedModel(let n): return "\(n): training supports SAM and SyncSAM configurations only"
        case .badInitSpec(let s, let r): return "--init '\(s)': \(r) (expected sam=FILE,cnn=FILE)"
        case .weights(let p, let r): return "\(p): \(r)"
        case .notTrainingCheckpoint(let p):
            return "\(p): not a training checkpoint (no training state); start from model weights with --init sam=FILE"
        case .architectureMismatch(let p, let d): return "\(p): checkpoint of another architecture (\(d))"
        case .freezeNeedsSyncSAM: return "--freeze paper needs a SyncSAM model; use --freeze decoder (FT-SAM) or none"
        case .settingConflict(let o, let g, let s):
            return "\(o) \(g) differs from the checkpoint's \(s) (a resumed run keeps its settings; only --epochs and --max-steps may change)"
        }
    }
}
