import SyncTensor

/// A named collection of stored tensors (a checkpoint), as seen by the loader.
public protocol TensorSource {
    /// Tensor names in file order.
    var tensorNames: [String] { get }
    /// Shape of `name`, or nil when absent.
    func shape(of name: String) -> [Int]?
    /// Values of `name` converted to Float32, row-major.
    func floatValues(of name: String) throws -> [Float]
    /// Writes the values of `name` converted to Float32, row-major, into `destination` (exactly its element
    /// count). Sources backed by a file convert straight from the file's bytes, with no temporary array.
    func copyFloatValues(of name: String, into destination: UnsafeMutableBufferPointer<Float>) throws
}

extension TensorSource {
    /// Default: through `floatValues(of:)`.
    public func copyFloatValues(of name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let values = try floatValues(of: name)
        guard values.count == destination.count else {
            throw WeightLoadError.shapeMismatch(key: name, expected: [destination.count], found: [values.count])
        }
        _ = destination.update(fromContentsOf: values)
    }
}

/// A `TensorSource` over tensors held in memory (tests, converted checkpoints, adapted weights).
public struct InMemoryTensors: TensorSource {
    public var tensors: [(String, Tensor)]
    public init(_ tensors: [(String, Tensor)]) { self.tensors = tensors }
    public var tensorNames: [String] { tensors.map(\.0) }
    public func shape(of name: String) -> [Int]? { tensors.first { $0.0 == name }?.1.shape }
    public func floatValues(of name: String) throws -> [Float] { try tensor(name).toArray() }
    public func copyFloatValues(of name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let t = try tensor(name)
        guard t.count == destination.count else {
            throw WeightLoadError.shapeMismatch(key: name, expected: [destination.count], found: t.shape)
        }
        if t.count > 0 { destination.baseAddress!.update(from: t.data, count: t.count) }
    }
    private func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors.first(where: { $0.0 == name })?.1 else { throw WeightLoadError.missingKeys([name]) }
        return t
    }
}

/// How checkpoint names map onto model names and how strict loading is.
public struct LoadOptions: Sendable {
    /// Fail on model tensors the checkpoint lacks.
    public var allowMissing = false
    /// Fail on checkpoint tensors the model lacks.
    public var allowUnexpected = false
    /// Skip (report) tensors whose shape differs instead of failing.
    public var skipMismatched = false
    /// Prefix rewrites applied to checkpoint names, in order: `("model.", "")` unwraps training checkpoints,
    /// `("", "image_encoder.cnn.")` places a torchvision ResNet file under the CNN branch.
    public var renames: [(from: String, to: String)] = []
    /// Checkpoint names (after renames) starting with any of these are ignored (e.g. `fc.` of torchvision files).
    public var ignoredPrefixes: [String] = []

    public init(allowMissing: Bool = false, allowUnexpected: Bool = false, skipMismatched: Bool = false,
                renames: [(from: String, to: String)] = [], ignoredPrefixes: [String] = []) {
        self.allowMissing = allowMissing
        self.allowUnexpected = allowUnexpected
        self.skipMismatched = skipMismatched
        self.renames = renames
        self.ignoredPrefixes = ignoredPrefixes
    }

    /// Accepts partial checkpoints both ways (loading pretrained parts into a larger model).
    public static var partial: LoadOptions { LoadOptions(allowMissing: true, allowUnexpected: true) }

    func mapped(_ name: String) -> String {
        var n = name
        for r in renames where n.hasPrefix(r.from) { n = r.to + n.dropFirst(r.from.count) }
        return n
    }
}

/// What a load did: tensors copied, and the keys that did not fit.
public struct LoadReport: Sendable, CustomStringConvertible {
    public var loaded: [String] = []
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var mismatched: [(key: String, expected: [Int], found: [Int])] = []

    public var description: String {
        var lines = ["loaded \(loaded.count) tensors"]
        if !missing.isEmpty { lines.append("missing \(missing.count): \(missing.prefix(8).joined(separator: ", "))\(missing.count > 8 ? ", ..." : "")") }
        if !unexpected.isEmpty { lines.append("unexpected \(unexpected.count): \(unexpected.prefix(8).joined(separator: ", "))\(unexpected.count > 8 ? ", ..." : "")") }
        for m in mismatched.prefix(8) { lines.append("shape mismatch \(m.key): model \(m.expected), checkpoint \(m.found)") }
        return lines.joined(separator: "\n")
    }
}

/// Typed loading failures; each description is one line naming the keys.
public enum WeightLoadError: Error, CustomStringConvertible {
    case missingKeys([String])
    case unexpectedKeys([String])
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingKeys(let k):
            return "checkpoint lacks \(k.count) model tensor(s): \(k.prefix(5).joined(separator: ", "))\(k.count > 5 ? ", ..." : "")"
        case .unexpectedKeys(let k):
            return "checkpoint has \(k.count) tensor(s) the model does not: \(k.prefix(5).joined(separator: ", "))\(k.count > 5 ? ", ..." : "")"
        case .shapeMismatch(let key, let e, let f):
            return "shape mismatch for \(key): model expects \(e), checkpoint has \(f)"
        }
    }
}

extension ParameterStore {
    /// Copies every matching tensor of `source` into the model by name (after `options.renames`),
    /// checking shapes. Strict by default: any missing, unexpected or mismatched key throws before
    /// anything is copied, so a failed load leaves the model untouched (as built).
    ///
    /// Values are converted straight into the parameters (`copyFloatValues`). In a store that defers
    /// initialisation, every tensor the load did not fill then gets its initial value, so missing tensors under
    /// `allowMissing` and skipped mismatches hold what an eager build gives them.
    @discardableResult
    public func load(from source: TensorSource, options: LoadOptions = LoadOptions()) throws -> LoadReport {
        var provided = Set<Int>()
        defer { initialisePendingTensors(except: provided) }
        var report = LoadReport()
        var plan: [(source: String, target: Tensor, name: String)] = []
        var seen = Set<String>()
        for name in source.tensorNames {
            let target = options.mapped(name)
            if options.ignoredPrefixes.contains(where: { target.hasPrefix($0) }) { continue }
            guard let t = self[target] else { report.unexpected.append(name); continue }
            seen.insert(target)
            let found = source.shape(of: name) ?? []
            let sameCount = found.reduce(1, *) == t.count
            if found != t.shape && !(sameCount && (found.isEmpty || t.shape.isEmpty)) {
                report.mismatched.append((target, t.shape, found))
                continue
            }
            plan.append((name, t, target))
        }
        report.missing = entries.map(\.name).filter { !seen.contains($0) }
        if let m = report.mismatched.first, !options.skipMismatched {
            throw WeightLoadError.shapeMismatch(key: m.key, expected: m.expected, found: m.found)
        }
        if !report.missing.isEmpty && !options.allowMissing { throw WeightLoadError.missingKeys(report.missing) }
        if !report.unexpected.isEmpty && !options.allowUnexpected { throw WeightLoadError.unexpectedKeys(report.unexpected) }
        for p in plan {
            try source.copyFloatValues(of: p.source, into: UnsafeMutableBufferPointer(start: p.target.data, count: p.target.count))
            provided.insert(entryIndex(p.name)!)
            report.loaded.append(p.name)
        }
        return report
    }

    /// All registered tensors (parameters and buffers) by name, for saving.
    public var namedTensors: [(String, Tensor)] { entries.map { ($0.name, $0.tensor) } }
}
