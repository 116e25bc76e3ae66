import Foundation

/// The content of `summary.json`, written next to the masks by `SegmentationOutputWriter` (snake_case keys;
/// optional fields are omitted when unknown).
///
/// Conventions: `size` is `[width, height]` for images and `[nx, ny, nz]` (file order) for volumes; `box` is
/// `[x0, y0, x1, y1]` in pixel edges (`x1` = last foreground column + 1, usable again as `--box`); `rle` is COCO
/// run-length encoding in pycocotools' compressed string form with `size` `[height, width]`.
public struct SegmentationSummary: Codable, Sendable, Equatable {
    public struct RLE: Codable, Sendable, Equatable {
        /// `[height, width]`.
        public var size: [Int]
        public var counts: String
    }

    /// One object of a 2-D image.
    public struct Object: Codable, Sendable, Equatable {
        public var label: Int
        /// The object's mask file (`mask.png` or `mask_<label>.png`).
        public var file: String
        public var areaPixels: Int
        /// Area in mm^2 when the pixel spacing is known.
        public var areaMM2: Double?
        /// nil for an empty mask.
        public var box: [Int]?
        /// Predicted IoU (SAM checkpoints only).
        public var score: Float?
        public var rle: RLE

        enum CodingKeys: String, CodingKey {
            case label, file, box, score, rle
            case areaPixels = "area_px"
            case areaMM2 = "area_mm2"
        }
    }

    /// One label of a volume's label map.
    public struct LabelStatistics: Codable, Sendable, Equatable {
        public var label: Int
        public var voxels: Int
        public var volumeMM3: Double
        /// First and last slice index along the propagation axis holding the object; nil when empty.
        public var sliceRange: [Int]?

        enum CodingKeys: String, CodingKey {
            case label, voxels
            case volumeMM3 = "volume_mm3"
            case sliceRange = "slice_range"
        }
    }

    public var input: String
    /// `SegmentationInputFormat` raw value.
    public var format: String?
    /// `image` or `volume`.
    public var kind: String
    public var size: [Int]
    /// `[x, y]` for images, `[x, y, z]` for volumes, in mm.
    public var spacingMM: [Double]?
    public var model: String?
    /// The intensity mapping (`DisplayIntensity.description`).
    public var intensity: String?
    public var timingsSeconds: [String: Double]?
    /// Volumes: propagation axis and key slice.
    public var axis: String?
    public var keySlice: Int?
    /// Images: one entry per object.
    public var objects: [Object]?
    /// Volumes: one entry per label.
    public var labels: [LabelStatistics]?
    /// The files written, in writing order.
    public var files: [String]

    enum CodingKeys: String, CodingKey {
        case input, format, kind, size, model, intensity, axis, objects, labels, files
        case spacingMM = "spacing_mm"
        case timingsSeconds = "timings_s"
        case keySlice = "key_slice"
    }
}

/// What the writer records about a run besides the masks.
public struct SegmentationRunInfo: Sendable, Equatable {
    /// The input path as the user gave it.
    public var inputPath: String
    public var format: SegmentationInputFormat?
    public var modelName: String?
    public var intensity: String?
    /// Named durations in seconds (e.g. `load`, `encode`, `decode`).
    public var timings: [String: Double]

    public init(inputPath: String, format: SegmentationInputFormat? = nil, modelName: String? = nil,
                intensity: String? = nil, timings: [String: Double] = [:])
    {
        self.inputPath = inputPath
        self.format = format
        self.modelName = modelName
        self.intensity = intensity
        self.timings = timings
    }

    /// Path, format and intensity mapping taken from a loaded input.
    public init(input: SegmentationInput, modelName: String? = nil, timings: [String: Double] = [:]) {
        self.init(inputPath: input.url.path, format: input.format, modelName: modelName,
                  intensity: input.display.description, timings: timings)
    }
}
