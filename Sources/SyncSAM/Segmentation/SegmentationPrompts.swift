import Foundation
import MedImage

/// The objects to segment in one input, from the CLI's `--box` / `--point` flags or a `--prompts` JSON file,
/// plus, for volumes, the key slice and the axis to propagate along.
///
/// Prompt file schema (coordinates in pixels of the image, or of the key slice for a volume):
/// ```json
/// {"objects": [{"label": 1, "box": [x0, y0, x1, y1], "points": [[x, y, 1], [x, y, 0], [x, y]]}],
///  "slice": 12, "axis": "z"}
/// ```
/// Every object needs a box, points or both; `label` (1...255, distinct) defaults to the lowest unused value in
/// object order; a point's label defaults to 1 (foreground), 0 is background. `slice` defaults to the middle
/// slice and `axis` to `z`; both apply to volumes only. Unknown keys are errors (a typo must not drop a prompt).
public struct SegmentationPrompts: Sendable, Equatable {
    /// One entry per object, each with its `label` set.
    public var objects: [ObjectPrompt]
    /// Key slice of a volume; nil = the middle slice.
    public var slice: Int?
    /// Propagation axis of a volume; nil = z.
    public var axis: VolumeAxis?

    public static let maximumLabel = 255

    public init(objects: [ObjectPrompt], slice: Int? = nil, axis: VolumeAxis? = nil) {
        self.objects = objects
        self.slice = slice
        self.axis = axis
    }

    // MARK: - Command-line flags

    /// Objects from `--box` (repeatable) and `--point` (repeatable): one box plus any points make one object;
    /// several boxes without points make one object each (labels 1, 2, ... in order).
    public static func fromArguments(boxes: [String], points: [String], slice: Int? = nil, axis: VolumeAxis? = nil)
        throws(PromptInputError) -> SegmentationPrompts
    {
        if boxes.isEmpty && points.isEmpty { throw .missing }
        if boxes.count > 1 && !points.isEmpty {
            throw .ambiguous("--point cannot be combined with several --box (which object would it refine?); use --prompts FILE")
        }
        var parsedBoxes: [ObjectPrompt.Box] = []
        for b in boxes { parsedBoxes.append(try parseBox(b)) }
        var parsedPoints: [ObjectPrompt.Point] = []
        for p in points { parsedPoints.append(try parsePoint(p)) }
        let objects: [ObjectPrompt]
        if parsedBoxes.count > 1 {
            objects = parsedBoxes.enumerated().map { ObjectPrompt(box: $0.element, label: $0.offset + 1) }
        } else {
            objects = [ObjectPrompt(box: parsedBoxes.first, points: parsedPoints, label: 1)]
        }
        return SegmentationPrompts(objects: objects, slice: slice, axis: axis)
    }

    /// Parses `x0,y0,x1,y1` (four finite numbers).
    public static func parseBox(_ text: String) throws(PromptInputError) -> ObjectPrompt.Box {
        let v = try numbers(text, option: "--box", expected: "x0,y0,x1,y1", counts: [4])
        return ObjectPrompt.Box(x0: v[0], y0: v[1], x1: v[2], y1: v[3])
    }

    /// Parses `x,y` or `x,y,label` (label 0 or 1, default 1).
    public static func parsePoint(_ text: String) throws(PromptInputError) -> ObjectPrompt.Point {
        let v = try numbers(text, option: "--point", expected: "x,y or x,y,label", counts: [2, 3])
        guard v.count == 3 else { return ObjectPrompt.Point(x: v[0], y: v[1]) }
        guard v[2] == 0 || v[2] == 1 else {
            if let whole = wholeNumber(v[2]) { throw .invalid(.badLabel(whole), object: nil) }
            throw .malformed(option: "--point", value: text, reason: badPointLabel(v[2]))
        }
        return ObjectPrompt.Point(x: v[0], y: v[1], label: Int(v[2]))
    }

    private static func numbers(_ text: String, option: String, expected: String, counts: [Int])
        throws(PromptInputError) -> [Double]
    {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Double] = []
        for p in parts {
            guard let v = Double(p), v.isFinite else {
                throw .malformed(option: option, value: text, reason: "\"\(p)\" is not a number (expected \(expected))")
            }
            values.append(v)
        }
        guard counts.contains(values.count) else {
            let n = values.count
            throw .malformed(option: option, value: text,
                             reason: "expected \(expected), found \(n) number\(n == 1 ? "" : "s")")
        }
        return values
    }

    private static func wholeNumber(_ v: Double) -> Int? { v == v.rounded() && abs(v) < 1e9 ? Int(v) : nil }

    /// The message for a point label other than 0 or 1 (PromptError's wording for whole numbers).
    private static func badPointLabel(_ v: Double) -> String {
        if let whole = wholeNumber(v) { return PromptError.badLabel(whole).description }
        return "point label \(v) is not 0 (background) or 1 (foreground)"
    }

    // MARK: - Prompt file

    /// Reads a prompt file (schema in the type's documentation).
    public static func load(file url: URL) throws(PromptInputError) -> SegmentationPrompts {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .file(name: url.lastPathComponent,
                        message: FileManager.default.fileExists(atPath: url.path) ? "cannot read file" : "no such file")
        }
        return try decode(data, name: url.lastPathComponent)
    }

    /// Decodes prompt-file JSON; `name` prefixes error messages.
    public static func decode(_ data: Data, name: String) throws(PromptInputError) -> SegmentationPrompts {
        func fail(_ message: String) -> PromptInputError { .file(name: name, message: message) }
        guard let json = try? JSONSerialization.jsonObject(with: data), let top = json as? [String: Any] else {
            throw fail("not a JSON object (expected {\"objects\": [...]})")
        }
        if let key = top.keys.sorted().first(where: { !["objects", "slice", "axis"].contains($0) }) {
            throw fail("unknown key \"\(key)\" (expected objects, slice, axis)")
        }
        guard let list = top["objects"] as? [Any], !list.isEmpty else {
            throw fail("\"objects\" must be a non-empty list")
        }
        var objects: [ObjectPrompt] = []
        for (i, item) in list.enumerated() {
            let path = "objects[\(i)]"
            guard let o = item as? [String: Any] else { throw fail("\(path) must be an object") }
            if let key = o.keys.sorted().first(where: { !["label", "box", "points"].contains($0) }) {
                throw fail("unknown key \"\(key)\" in \(path) (expected label, box, points)")
            }
            var prompt = ObjectPrompt()
            if let l = o["label"] {
                guard let v = integer(l) else { throw fail("\(path).label must be an integer") }
                prompt.label = v
            }
            if let b = o["box"] {
                guard let v = numberList(b), v.count == 4 else {
                    throw fail("\(path).box must be 4 numbers [x0, y0, x1, y1]")
                }
                prompt.box = ObjectPrompt.Box(x0: v[0], y0: v[1], x1: v[2], y1: v[3])
            }
            if let ps = o["points"] {
                guard let entries = ps as? [Any] else { throw fail("\(path).points must be a list of [x, y, label]") }
                for (k, entry) in entries.enumerated() {
                    guard let v = numberList(entry), v.count == 2 || v.count == 3 else {
                        throw fail("\(path).points[\(k)] must be [x, y] or [x, y, label]")
                    }
                    if v.count == 3 && v[2] != 0 && v[2] != 1 {
                        throw fail("\(path).points[\(k)]: \(badPointLabel(v[2]))")
                    }
                    prompt.points.append(ObjectPrompt.Point(x: v[0], y: v[1], label: v.count == 3 ? Int(v[2]) : 1))
                }
            }
            objects.append(prompt)
        }
        var slice: Int?
        if let s = top["slice"] {
            guard let v = integer(s), v >= 0 else { throw fail("\"slice\" must be a non-negative integer") }
            slice = v
        }
        var axis: VolumeAxis?
        if let a = top["axis"] {
            guard let text = a as? String, let v = VolumeAxis(axisName: text) else {
                throw fail("\"axis\" must be \"x\", \"y\" or \"z\"")
            }
            axis = v
        }
        do {
            return SegmentationPrompts(objects: try assignLabels(objects), slice: slice, axis: axis)
        } catch {
            throw fail(error.description)
        }
    }

    private static func integer(_ any: Any) -> Int? {
        guard !(any is String), let n = any as? NSNumber else { return nil }
        return wholeNumber(n.doubleValue)
    }

    private static func numberList(_ any: Any) -> [Double]? {
        guard let list = any as? [Any] else { return nil }
        var out: [Double] = []
        for item in list {
            guard !(item is String), let n = item as? NSNumber, n.doubleValue.isFinite else { return nil }
            out.append(n.doubleValue)
        }
        return out
    }

    /// Explicit labels must be distinct and in 1...255; missing ones take the lowest unused values in order.
    static func assignLabels(_ objects: [ObjectPrompt]) throws(PromptInputError) -> [ObjectPrompt] {
        var used: [Int: Int] = [:]
        for (i, o) in objects.enumerated() {
            guard let l = o.label else { continue }
            guard (1...maximumLabel).contains(l) else { throw .badObjectLabel(object: i + 1, label: l) }
            if let first = used[l] { throw .duplicateLabel(label: l, objects: (first, i + 1)) }
            used[l] = i + 1
        }
        var next = 1
        var out = objects
        for i in out.indices where out[i].label == nil {
            while used[next] != nil { next += 1 }
            guard next <= maximumLabel else { throw .badObjectLabel(object: i + 1, label: next) }
            out[i].label = next
            used[next] = i + 1
        }
        return out
    }

    // MARK: - Validation

    /// Checks every object against a `width` x `height` image (box inside with positive area, points inside,
    /// point labels 0/1). Errors name the object (1-based) when there are several.
    public func validate(width: Int, height: Int) throws(PromptInputError) {
        for (i, o) in objects.enumerated() {
            do { try o.validate(width: width, height: height) } catch {
                throw .invalid(error, object: objects.count > 1 ? i + 1 : nil)
            }
        }
    }

    /// Resolves and checks the prompts for `input`: a 2-D input must not name a slice or axis; a volume's key
    /// slice (default: the middle one) must exist along the axis (default z). The prompts are then validated
    /// against the image or key-slice size.
    /// - Returns: the axis and key slice (nil for 2-D input).
    public func resolve(for input: SegmentationInput) throws(PromptInputError) -> (axis: VolumeAxis, slice: Int?) {
        guard let volume = input.volume else {
            if slice != nil || axis != nil { throw .ambiguous("\"slice\" and \"axis\" apply to volumes only") }
            if let image = input.image { try validate(width: image.width, height: image.height) }
            return (.z, nil)
        }
        let a = axis ?? .z
        let count = VolumePropagation.extent(of: volume, along: a)
        let s = slice ?? count / 2
        guard s >= 0, s < count else { throw .sliceOutOfRange(slice: s, axis: a, count: count) }
        let size = VolumePropagation.sliceSize(of: volume, along: a)
        try validate(width: size.width, height: size.height)
        return (a, s)
    }
}

/// Invalid prompt input; each description is one line.
public enum PromptInputError: Error, CustomStringConvertible, Equatable {
    /// No prompt given at all.
    case missing
    /// A flag value that does not parse.
    case malformed(option: String, value: String, reason: String)
    /// A prompt that does not fit the image; `object` is 1-based when there are several objects.
    case invalid(PromptError, object: Int?)
    /// An error in a prompt file.
    case file(name: String, message: String)
    /// Flags that cannot be combined.
    case ambiguous(String)
    /// An object label outside 1...255.
    case badObjectLabel(object: Int, label: Int)
    /// Two objects with the same label (1-based object numbers).
    case duplicateLabel(label: Int, objects: (Int, Int))
    /// A key slice outside the volume.
    case sliceOutOfRange(slice: Int, axis: VolumeAxis, count: Int)

    public var description: String {
        switch self {
        case .missing: return "no prompt given: use --box x0,y0,x1,y1, --point x,y[,label] or --prompts FILE"
        case .malformed(let option, let value, let reason): return "\(option) \"\(value)\": \(reason)"
        case .invalid(let error, let object):
            return object.map { "object \($0): \(error.description)" } ?? error.description
        case .file(let name, let message): return "\(name): \(message)"
        case .ambiguous(let message): return message
        case .badObjectLabel(let object, let label):
            return "object \(object): label \(label) is outside 1...\(SegmentationPrompts.maximumLabel)"
        case .duplicateLabel(let label, let objects):
            return "label \(label) is used by objects \(objects.0) and \(objects.1); labels must be distinct"
        case .sliceOutOfRange(let slice, let axis, let count):
            return "slice \(slice) is outside the volume (0...\(count - 1) along \(axis.axisName))"
        }
    }

    public static func == (a: PromptInputError, b: PromptInputError) -> Bool { a.description == b.description }
}

extension VolumeAxis {
    /// `x`, `y` or `z` (case-insensitive).
    public init?(axisName: String) {
        switch axisName.lowercased() {
        case "x": self = .x
        case "y": self = .y
        case "z": self = .z
        default: return nil
        }
    }

    /// `"x"`, `"y"` or `"z"`.
    public var axisName: String {
        switch self {
        case .x: return "x"
        case .y: return "y"
        case .z: return "z"
        }
    }
}
