import MedImage
import SyncTensor

/// SAM's `SamPredictor` for any `PromptableSegmenter`: `setImage` computes and caches the image embedding,
/// `predict` decodes any mix of boxes, clicks and previous masks for one or many objects (SPEC section 0
/// preprocessing and mapping back). Inference runs without an autograd tape.
public final class Predictor {
    public let model: any PromptableSegmenter
    public let preprocessing: PreprocessingKind
    /// Whether the model's mask prompt is sigmoid(logits) (SyncSAM / SAM-Med2D protocol) or raw logits (SAM).
    public let maskPromptIsProbability: Bool
    /// Whether the decoder has SAM's mask tokens + IoU head (3 candidate masks for ambiguous single clicks).
    public let hasMultimaskHead: Bool

    public private(set) var transform: ImageTransform?
    public private(set) var embedding: ImageEmbedding?

    public init(model: any PromptableSegmenter, preprocessing: PreprocessingKind, maskPromptIsProbability: Bool,
                hasMultimaskHead: Bool) {
        self.model = model
        self.preprocessing = preprocessing
        self.maskPromptIsProbability = maskPromptIsProbability
        self.hasMultimaskHead = hasMultimaskHead
    }

    /// Computes and caches the embedding of `image` (display values 0-255, grey or RGB).
    public func setImage(_ image: Image2D) throws(MedImageError) {
        let t = ImageTransform(kind: preprocessing, width: image.width, height: image.height, inputSize: model.inputSize)
        embedding = try model.embed(image, transform: t)
        transform = t
    }

    /// Uses an embedding computed elsewhere (a cache) for an image of `width` x `height`.
    public func setEmbedding(_ e: ImageEmbedding, width: Int, height: Int) {
        embedding = e
        transform = ImageTransform(kind: preprocessing, width: width, height: height, inputSize: model.inputSize)
    }

    /// Predicts every object. `previous[i]`, when given, is object i's low-res logits from the last round.
    /// Objects with the same prompt structure are decoded in one batch.
    public func predict(_ objects: [ObjectPrompt], previous: [Tensor?] = []) throws(PromptError) -> [ObjectPrediction] {
        guard let transform, let embedding else { preconditionFailure("predict called before setImage") }
        for o in objects { try o.validate(width: transform.originalWidth, height: transform.originalHeight) }
        var results = [ObjectPrediction?](repeating: nil, count: objects.count)
        // Group by (has box, number of points, has mask) so tensors stack.
        var groups: [String: [Int]] = [:]
        for (i, o) in objects.enumerated() {
            let hasMask = i < previous.count && previous[i] != nil
            groups["\(o.box != nil)-\(o.points.count)-\(hasMask)", default: []].append(i)
        }
        for key in groups.keys.sorted() {
            let idx = groups[key]!
            let prompts = makePrompts(idx.map { objects[$0] }, masks: idx.map { $0 < previous.count ? previous[$0] : nil },
                                      transform: transform)
            let ambiguous = hasMultimaskHead && objects[idx[0]].box == nil && objects[idx[0]].points.count == 1
            let out = withNoGrad {
                model.decode(embedding, prompts: prompts, multimaskOutput: ambiguous, trace: nil)
            }
            let logits = out.lowResLogits  // [n, K, m, m]
            let k = logits.shape[1]
            for (j, i) in idx.enumerated() {
                var best = 0
                if k > 1, let iou = out.iouPredictions {
                    for c in 1..<k where iou.data[j * k + c] > iou.data[j * k + best] { best = c }
                }
                let low = logits.narrowed(0, start: j, length: 1).narrowed(1, start: best, length: 1).clone()
                let full = withNoGrad { transform.logitsToOriginal(low) }
                let values = [UInt8](unsafeUninitializedCapacity: full.count) { buf, n in
                    for p in 0..<full.count { buf[p] = full.data[p] > 0 ? 1 : 0 }
                    n = full.count
                }
                let mask = try! BinaryMask(width: transform.originalWidth, height: transform.originalHeight, values: values)
                let score = out.iouPredictions.map { $0.data[j * k + best] }
                results[i] = ObjectPrediction(label: objects[i].label ?? (i + 1), mask: mask, score: score, lowResLogits: low)
            }
        }
        return results.map { $0! }
    }

    /// Prompt tensors in model pixels for objects of identical structure.
    func makePrompts(_ objects: [ObjectPrompt], masks: [Tensor?], transform: ImageTransform) -> Prompts {
        let n = objects.count
        var prompts = Prompts()
        let p = objects[0].points.count
        if p > 0 {
            var coords = [Float](), labels = [Float]()
            for o in objects {
                for pt in o.points {
                    let (x, y) = transform.toModel(pt.x, pt.y)
                    coords += [Float(x), Float(y)]
                    labels.append(Float(pt.label))
                }
            }
            prompts.pointCoords = Tensor(shape: [n, p, 2], values: coords)
            prompts.pointLabels = Tensor(shape: [n, p], values: labels)
        }
        if objects[0].box != nil {
            var boxes = [Float]()
            for o in objects {
                let b = o.box!
                let (x0, y0) = transform.toModel(b.x0, b.y0), (x1, y1) = transform.toModel(b.x1, b.y1)
                boxes += [Float(x0), Float(y0), Float(x1), Float(y1)]
            }
            prompts.boxes = Tensor(shape: [n, 4], values: boxes)
        }
        if let first = masks.first, first != nil {
            let stacked = Tensor.concat(masks.map { $0! }, dim: 0)
            prompts.maskInputs = maskPromptIsProbability ? withNoGrad { stacked.sigmoid() } : stacked
        }
        return prompts
    }

    /// One label map for several objects: each pixel takes the label of the predicted object covering it;
    /// where objects overlap, the later object wins. Values are the objects' labels, 0 elsewhere.
    public static func labelMap(_ objects: [ObjectPrediction], width: Int, height: Int) -> Image2D {
        var labels = [Float](repeating: 0, count: width * height)
        for o in objects {
            o.mask.values.withUnsafeBufferPointer { m in
                for i in 0..<labels.count where m[i] != 0 { labels[i] = Float(o.label) }
            }
        }
        return try! Image2D(width: width, height: height, channels: 1, pixels: labels)
    }
}
