import Foundation
import MedImage
import SyncSAM

/// Prompt modes of the SyncSAM / SAM-Med2D evaluation (SPEC 7.1, 7.3).
public enum EvaluationMode: String, Codable, Sendable, CaseIterable {
    /// One box per mask (see `BoxRule`), no jitter.
    case box
    /// One random foreground pixel.
    case onePoint
    /// One random point, then 4 rounds each adding one error-region click, with the mask prompt fed back.
    case fivePoints

    /// The command-line / table spelling: `bbox`, `1pt`, `5pt`.
    public var label: String {
        switch self {
        case .box: return "bbox"
        case .onePoint: return "1pt"
        case .fivePoints: return "5pt"
        }
    }

    /// Column heading of the paper's tables.
    public var heading: String {
        switch self {
        case .box: return "Bbox"
        case .onePoint: return "1 pt"
        case .fivePoints: return "5 pts"
        }
    }

    /// Parses `bbox`/`box`, `1pt`, `5pt`/`5pts` (or the raw values).
    public init?(label: String) {
        switch label.lowercased() {
        case "bbox", "box": self = .box
        case "1pt", "1pts", "onepoint", "point": self = .onePoint
        case "5pt", "5pts", "fivepoints": self = .fivePoints
        default: return nil
        }
    }
}

/// How the evaluation box is taken from a ground-truth mask.
public enum BoxRule: String, Codable, Sendable, CaseIterable {
    /// SPEC 7.1 (SAM-Med2D `test.py`): the largest 8-connected component of the mask at model resolution,
    /// exclusive maxima (last index + 1), in model pixels.
    case largestComponent = "largest-component"
    /// MedSAM / LiteMedSAM (`make_litemedsam_fixtures.py`; IMIS uses the same box, SPEC 7.2): the tight box of the
    /// whole mask at the original resolution with inclusive maxima (`xs.max()`), scaled to model pixels.
    case tightOriginal = "tight-original"
}

/// How per-mask scores are averaged into one number per seed.
public enum ScoreAggregation: String, Codable, Sendable {
    /// Mean over masks (SPEC 7.1, SA-Med2D-20M).
    case perMask = "mask"
    /// Mean over the masks of each image, then over images (SPEC 7.2, IMIS-Bench).
    case perImage = "image"
}

/// Scores of one mask in one mode for one seed and one predictor, at the image's original resolution.
public struct MaskEvaluation: Codable, Sendable, Equatable {
    public var imageID: String
    public var maskID: String
    public var mode: EvaluationMode
    public var dice: Double
    public var iou: Double
    /// Normalized surface Dice at the evaluator's tolerance in mm (nil when no tolerance was asked).
    public var nsd: Double?
    /// HD95 in mm; nil when undefined (exactly one mask empty) or not asked.
    public var hd95: Double?
    /// The prompts of the last round (model pixels; the box of the box mode also for the baselines).
    public var prompt: PromptSet
    /// The run seed this score belongs to.
    public var seed: UInt64 = 0
    /// The predictor: the model's name, or a `BaselinePredictor` name.
    public var method: String = "model"
    /// Provenance of the image, for per-dataset / per-modality tables.
    public var dataset: String?
    public var modality: String?
}

/// Pixel spacing per image id, in mm.
public struct SpacingTable: Sendable, Equatable {
    public var spacings: [String: PixelSpacing]
    /// Where the values came from (stated in the tables).
    public var source: String
    /// Used for images that neither the table nor the file gives a spacing.
    public var fallback: PixelSpacing

    public init(spacings: [String: PixelSpacing] = [:], source: String = "none (1 mm per pixel assumed)",
                fallback: PixelSpacing = PixelSpacing(x: 1, y: 1)) {
        self.spacings = spacings
        self.source = source
        self.fallback = fallback
    }

    /// `SAMed2D_v1_meta.json` of a SA-Med2D-layout folder: `geometry.pixel_mm` = [row spacing, column spacing]
    /// (the order of `image_hw`) per image. Empty table when the file is absent.
    public static func samed2dMeta(root: URL) throws -> SpacingTable {
        let url = root.appendingPathComponent("SAMed2D_v1_meta.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return SpacingTable() }
        guard let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw DatasetError.badIndex(file: url.path, reason: "expected an object of image path -> metadata")
        }
        var out: [String: PixelSpacing] = [:]
        for (id, value) in meta {
            guard let entry = value as? [String: Any], let geometry = entry["geometry"] as? [String: Any],
                  let mm = geometry["pixel_mm"] as? [Double], mm.count == 2, mm[0] > 0, mm[1] > 0 else { continue }
            out[id] = PixelSpacing(x: mm[1], y: mm[0])
        }
        return SpacingTable(spacings: out, source: "SAMed2D_v1_meta.json pixel_mm")
    }

    /// The spacing of `imageID`: the table's, else the image file's own, else `fallback`.
    public func spacing(for imageID: String, image: Image2D? = nil) -> PixelSpacing {
        spacings[imageID] ?? image?.spacing ?? fallback
    }
}

/// Frozen evaluation prompts of a whole run (SAM-Med2D `--prompt_path`): one `PromptBook` per (seed, mode),
/// mask id -> the prompts of the mask's last round. Reusing the file gives the same boxes and the same first clicks;
/// the later clicks of the 5-point mode come from the model's own error region, drawn with the same seeded
/// generators (so the same model gives the same clicks, and the file records them).
public struct EvaluationPrompts: Codable, Sendable, Equatable {
    public var boxRule: BoxRule
    public var books: [PromptBook]

    public init(boxRule: BoxRule, books: [PromptBook] = []) {
        self.boxRule = boxRule
        self.books = books
    }

    /// The prompts of the model's scores (baselines share the box mode's), grouped per seed and mode.
    public init(scores: [MaskEvaluation], boxRule: BoxRule) {
        let model = scores.filter { BaselinePredictor(rawValue: $0.method) == nil }
        var books: [String: PromptBook] = [:]
        for s in model {
            let key = "\(s.seed)|\(s.mode.rawValue)"
            books[key, default: PromptBook(seed: s.seed, mode: s.mode.rawValue)].prompts[s.maskID] = s.prompt
        }
        self.init(boxRule: boxRule, books: books.keys.sorted().map { books[$0]! })
    }

    /// The saved prompt of one mask, if any.
    public func prompt(seed: UInt64, mode: EvaluationMode, maskID: String) -> PromptSet? {
        books.first { $0.seed == seed && $0.mode == mode.rawValue }?.prompts[maskID]
    }

    public func save(_ url: URL) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try e.encode(self).write(to: url, options: .atomic)
    }

    public static func load(_ url: URL) throws -> EvaluationPrompts {
        try JSONDecoder().decode(EvaluationPrompts.self, from: Data(contentsOf: url))
    }
}
