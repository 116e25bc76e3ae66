import Foundation
import SyncNN
import SyncTensor

/// One comparison against a parity fixture: `name, maxError, tolerance, passed`.
public struct ParityCheck: Sendable, CustomStringConvertible {
    public let name: String
    public let maxError: Float
    public let tolerance: Float
    public let passed: Bool

    public init(name: String, maxError: Float, tolerance: Float) {
        self.name = name
        self.maxError = maxError
        self.tolerance = tolerance
        passed = maxError <= tolerance
    }

    /// A check that could not compare (missing or misshapen tensor): infinite error.
    public static func failed(_ name: String) -> ParityCheck {
        ParityCheck(name: name, maxError: .infinity, tolerance: 0)
    }

    public var description: String { "\(name), \(maxError), \(tolerance), \(passed)" }

    /// Output / intermediate tolerance of fixtures/README.md: `max|a − b| <= 1e-3 · max(1, max|b|)`.
    public static func output(_ name: String, actual: Tensor, expected: Tensor) -> ParityCheck {
        guard actual.count == expected.count, actual.shape == expected.shape || squeezedEqual(actual.shape, expected.shape)
        else { return .failed("\(name) (shape \(actual.shape) vs expected \(expected.shape))") }
        let a = actual.toArray(), b = expected.toArray()
        var maxError: Float = 0, maxExpected: Float = 0
        for i in 0..<a.count {
            let e = Swift.abs(a[i] - b[i])
            if !(e <= maxError) { maxError = e }  // NaN propagates as a failure.
            maxExpected = Swift.max(maxExpected, Swift.abs(b[i]))
        }
        return ParityCheck(name: name, maxError: maxError, tolerance: 1e-3 * Swift.max(1, maxExpected))
    }

    private static func squeezedEqual(_ a: [Int], _ b: [Int]) -> Bool { a.filter { $0 != 1 } == b.filter { $0 != 1 } }
}

/// Fixture problems that stop a suite (a missing file or a configuration that does not decode).
public enum ParityError: Error, CustomStringConvertible {
    case missingFile(String)
    case missingTensor(file: String, name: String)
    case badMetadata(file: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let f): return "fixture file \(f) not found"
        case .missingTensor(let f, let n): return "fixture \(f) has no tensor \(n)"
        case .badMetadata(let f, let r): return "fixture metadata \(f): \(r)"
        }
    }
}

/// A fixture directory of the `fixtures/README.md` layout: `<kind>.json`, `<kind>.weights.{safetensors,pth}`,
/// `<kind>.io.safetensors`. Opens files through the given reader and caches them.
public final class ParityFixture {
    public let directory: URL
    public let open: (URL) throws -> TensorSource
    private var cache: [String: TensorSource] = [:]

    public init(directory: URL, open: @escaping (URL) throws -> TensorSource) {
        self.directory = directory
        self.open = open
    }

    public func exists(_ file: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path)
    }

    /// The JSON object of `file`.
    public func json(_ file: String) throws -> [String: Any] {
        let url = directory.appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ParityError.missingFile(url.path) }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ParityError.badMetadata(file: file, reason: "not a JSON object")
        }
        return object
    }

    /// A model configuration stored under `key` of `file`.
    public func config(_ file: String, key: String = "config") throws -> SyncSAMConfig {
        guard let object = try json(file)[key] else { throw ParityError.badMetadata(file: file, reason: "no \(key)") }
        let data = try JSONSerialization.data(withJSONObject: object)
        do { return try JSONDecoder().decode(SyncSAMConfig.self, from: data) }
        catch { throw ParityError.badMetadata(file: file, reason: "\(key): \(error)") }
    }

    /// The tensors of `file` (cached).
    public func tensors(_ file: String) throws -> TensorSource {
        if let source = cache[file] { return source }
        let url = directory.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { throw ParityError.missingFile(url.path) }
        let source = try open(url)
        cache[file] = source
        return source
    }

    /// `<kind>.weights.safetensors`, else `<kind>.weights.pth`.
    public func weights(_ kind: String) throws -> TensorSource {
        let file = exists("\(kind).weights.safetensors") ? "\(kind).weights.safetensors" : "\(kind).weights.pth"
        return try tensors(file)
    }

    /// Tensor `name` of `source` (`file` names it in errors).
    public func tensor(_ source: TensorSource, _ name: String, file: String) throws -> Tensor {
        guard let shape = source.shape(of: name) else { throw ParityError.missingTensor(file: file, name: name) }
        return Tensor(shape: shape, values: try source.floatValues(of: name))
    }

    /// Forward prompt cases of a `syncsam.io` file: every `<case>.low_res_logits` except the training-step entries.
    public static func forwardCases(in io: TensorSource) -> [String] {
        io.tensorNames.compactMap { name -> String? in
            guard name.hasSuffix(".low_res_logits") else { return nil }
            let prefix = String(name.dropLast(".low_res_logits".count))
            return prefix.contains(".") || ParitySuite.trainingPrefixes.contains(prefix) ? nil : prefix
        }
    }

    /// The prompts `<prefix>.{point_coords, point_labels, boxes, mask_inputs}` present in `source`.
    public func prompts(_ source: TensorSource, prefix: String, file: String) throws -> Prompts {
        func optional(_ key: String) throws -> Tensor? {
            source.shape(of: "\(prefix).\(key)") == nil ? nil : try tensor(source, "\(prefix).\(key)", file: file)
        }
        return Prompts(pointCoords: try optional("point_coords"), pointLabels: try optional("point_labels"),
                       boxes: try optional("boxes"), maskInputs: try optional("mask_inputs"))
    }
}

/// A named group of parity checks over one fixture directory. The runner's suite list can be extended (the
/// training-step checks append theirs).
public struct ParitySuite: Sendable {
    public let name: String
    public let run: @Sendable (ParityFixture) throws -> [ParityCheck]

    public init(name: String, run: @escaping @Sendable (ParityFixture) throws -> [ParityCheck]) {
        self.name = name
        self.run = run
    }
}

/// Runs every check of a fixture directory and returns one line per comparison (`name, maxError, tolerance,
/// passed`): SyncSAM forward cases (`<case>.low_res_logits` for every prompt case), every `trace.*`
/// intermediate and `dense_pe` from `syncsam.*`; SAM `native.*` and `adapted.*` cases, embeddings, IoU
/// predictions and adapted tensors from `sam.*`. Suites whose files are absent are skipped.
public final class ParityRunner {
    public let fixture: ParityFixture
    public var suites: [ParitySuite]

    /// - Parameters:
    ///   - directory: the fixture folder.
    ///   - open: reads a tensor file (safetensors / pth) as a `TensorSource`.
    public init(directory: URL, open: @escaping (URL) throws -> TensorSource) {
        fixture = ParityFixture(directory: directory, open: open)
        suites = [.syncSAMForward, .samForward, .liteMedSAM]
    }

    /// Runs every suite in order; check names are prefixed by the suite name.
    public func run() throws -> [ParityCheck] {
        var checks: [ParityCheck] = []
        for suite in suites {
            for c in try suite.run(fixture) {
                checks.append(ParityCheck(name: "\(suite.name).\(c.name)", maxError: c.maxError, tolerance: c.tolerance))
            }
        }
        return checks
    }
}

extension ParitySuite {
    /// Prefixes of `syncsam.io` entries that belong to the training-step checks, not to forward cases.
    public static let trainingPrefixes: Set<String> = ["train", "step2"]

    /// SyncSAM forward parity (`syncsam.*`): every prompt case, every trace, the dense PE.
    public static let syncSAMForward = ParitySuite(name: "syncsam") { fixture in
        guard fixture.exists("syncsam.json") else { return [] }
        let ioFile = "syncsam.io.safetensors"
        let meta = try fixture.json("syncsam.json")
        let model = SyncSAMModel(config: try fixture.config("syncsam.json"))
        try model.load(from: try fixture.weights("syncsam"))
        let io = try fixture.tensors(ioFile)
        let images = try fixture.tensor(io, "images", file: ioFile)
        restoreEvalBatchNormStatistics(model, images: images)
        let cases = ParityFixture.forwardCases(in: io)
        var checks: [ParityCheck] = []
        try withNoGrad {
            let trace = ForwardTrace()
            let embedding = model.embed(images, trace: trace)
            if let ms = embedding.multiScale { trace.record("decoder.multiscale", ms) }
            let tracedCase = cases.contains("box") ? "box" : cases.first
            for name in cases {
                let prompts = try fixture.prompts(io, prefix: name, file: ioFile)
                if let perImage = meta["masks_per_image"] as? Int, prompts.count != perImage * images.shape[0] {
                    throw ParityError.badMetadata(file: ioFile, reason: "case \(name) has \(prompts.count) prompts")
                }
                let out = model.decode(embedding, prompts: prompts, trace: name == tracedCase ? trace : nil)
                let expected = try fixture.tensor(io, "\(name).low_res_logits", file: ioFile)
                checks.append(.output("\(name).low_res_logits", actual: out.lowResLogits, expected: expected))
            }
            for name in io.tensorNames where name.hasPrefix("trace.") {
                let key = String(name.dropFirst("trace.".count))
                guard let actual = trace[key] else { checks.append(.failed("\(name) (not produced)")); continue }
                checks.append(.output(name, actual: actual, expected: try fixture.tensor(io, name, file: ioFile)))
            }
            if io.shape(of: "dense_pe") != nil {
                checks.append(.output("dense_pe", actual: model.promptEncoder.denseImagePE(),
                                      expected: try fixture.tensor(io, "dense_pe", file: ioFile)))
            }
        }
        return checks
    }

    /// SAM parity (`sam.*`): for every tag `<tag>.image` (`native` at the checkpoint's own size, others after
    /// the SPEC 1.6 adaptation to `<tag>_config`): embeddings, all mask tokens and IoU predictions of every
    /// prompt case, and every stored model tensor (the adapted pos_embed / rel-pos tables).
    public static let samForward = ParitySuite(name: "sam") { fixture in
        guard fixture.exists("sam.json") else { return [] }
        let ioFile = "sam.io.safetensors"
        let io = try fixture.tensors(ioFile)
        let weights = try fixture.weights("sam")
        let nativeConfig = try fixture.config("sam.json")
        var checks: [ParityCheck] = []
        let tags = io.tensorNames.filter { $0.hasSuffix(".image") && $0.split(separator: ".").count == 2 }
            .map { String($0.dropLast(".image".count)) }
        for tag in tags {
            let config = tag == "native" ? nativeConfig : try fixture.config("sam.json", key: "\(tag)_config")
            let model = SAMModel(config: config)
            let source: TensorSource = config == nativeConfig ? weights : SAMCheckpointAdaptation(weights, to: config)
            try model.load(from: source)
            try withNoGrad {
                let image = try fixture.tensor(io, "\(tag).image", file: ioFile)
                let embedding = model.embed(image)
                for name in io.tensorNames where name.hasPrefix("\(tag).") {
                    let rest = String(name.dropFirst(tag.count + 1))
                    if rest == "image_embeddings" {
                        checks.append(.output(name, actual: embedding.features,
                                              expected: try fixture.tensor(io, name, file: ioFile)))
                    } else if let stored = model.store[rest] ?? model.store["image_encoder.\(rest)"] {
                        checks.append(.output(name, actual: stored, expected: try fixture.tensor(io, name, file: ioFile)))
                    } else if rest.hasSuffix(".low_res_logits") {
                        let prefix = String(name.dropLast(".low_res_logits".count))
                        let prompts = try fixture.prompts(io, prefix: prefix, file: ioFile)
                        let (masks, iou) = model.predictAllMasks(embedding, prompts: prompts)
                        checks.append(.output(name, actual: masks, expected: try fixture.tensor(io, name, file: ioFile)))
                        let iouName = "\(prefix).iou_predictions"
                        if io.shape(of: iouName) != nil {
                            checks.append(.output(iouName, actual: iou,
                                                  expected: try fixture.tensor(io, iouName, file: ioFile)))
                        }
                    }
                }
            }
        }
        return checks
    }
}

/// Undoes the BatchNorm running-stat updates that the fixture generator's training forwards left in the saved
/// weights (`num_batches_tracked` = T > 0: `make_fixtures.py` saves `state_dict()` views after its train-mode
/// forwards, while the forward cases used the stats from before them). Every such forward saw the same images
/// with the same CNN weights, hence the same batch statistics s, so r_T = (1 − m)^T r_0 + (1 − (1 − m)^T) s and
/// r_0 is recovered exactly from one train-mode pass that measures s. No-op when T = 0.
public func restoreEvalBatchNormStatistics(_ model: SyncSAMModel, images: Tensor) {
    guard let cnn = model.imageEncoder.cnn else { return }
    var norms = [cnn.bn1]
    for layer in cnn.layers {
        for block in layer { norms += block.norms + (block.downsample.map { [$0.norm] } ?? []) }
    }
    let steps = Int(norms[0].numBatchesTracked.item())
    guard steps > 0 else { return }
    let saved = norms.map { ($0.runningMean.clone(), $0.runningVar.clone()) }
    for bn in norms {
        bn.runningMean.assign(Tensor(zeros: bn.runningMean.shape))
        bn.runningVar.assign(Tensor(zeros: bn.runningVar.shape))
    }
    let wasTraining = model.store.training
    model.store.training = true
    withNoGrad {
        var c = cnn.stem(images)
        for s in 0..<cnn.layers.count { c = cnn.layer(s, c) }
    }
    model.store.training = wasTraining
    for (bn, (mean, variance)) in zip(norms, saved) {
        let keep = Float(Foundation.pow(Double(1 - bn.momentum), Double(steps)))
        // After the pass from zero, running = m · s.
        for (running, before) in [(bn.runningMean, mean), (bn.runningVar, variance)] {
            let r = running.data, b = before.data
            for i in 0..<running.count { r[i] = (b[i] - (1 - keep) * r[i] / bn.momentum) / keep }
        }
        bn.numBatchesTracked.data[0] = 0
    }
}
