import Foundation
import MedImage
import SyncIO
import SyncNN
import SyncTensor

extension ParitySuite {
    /// The LiteMedSAM fixture layout (fixtures/README.md, "litemedsam"): for every `<set>.json` whose config is a
    /// TinyViT one, `<set>.io.safetensors` with either
    /// - its own weights `<set>.weights.pth`: the image embedding, the encoder traces (`trace.patch_embed`,
    ///   `trace.layerN` as tokens) and every prompt case's 4 mask tokens and IoU predictions; or
    /// - the shipped weights (from the weights cache): per real case, the preprocessing of the original image file
    ///   against `<p>.input`, the embedding of that input, the decoder from the reference embedding and the
    ///   model-pixel boxes (token 0 and its IoU), and the final masks at the original size (>= 99.5 % equal pixels).
    public static let liteMedSAM = ParitySuite(name: "litemedsam") { fixture in
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixture.directory.path)) ?? []
        var checks: [ParityCheck] = []
        for jsonName in names.sorted() where jsonName.hasSuffix(".json") {
            let set = String(jsonName.dropLast(".json".count))
            guard fixture.exists("\(set).io.safetensors"), let meta = try? fixture.json(jsonName),
                  let configObject = meta["config"] as? [String: Any], configObject["embed_dims"] != nil else { continue }
            let config = try JSONDecoder().decode(LiteMedSAMConfig.self, from: JSONSerialization.data(withJSONObject: configObject))
            let model = try LiteMedSAM(config: config)
            let ownWeights = fixture.exists("\(set).weights.pth")
            let weightsPath: String
            if ownWeights { weightsPath = fixture.directory.appendingPathComponent("\(set).weights.pth").path }
            else if let cached = ModelFactory.defaultCheckpointCandidates().first(where: { FileManager.default.fileExists(atPath: $0) }) {
                weightsPath = cached
            } else {
                checks.append(.failed("\(set): shipped LiteMedSAM weights not found (run scripts/fetch-litemedsam.sh)"))
                continue
            }
            try model.load(from: try fixture.open(URL(fileURLWithPath: weightsPath)))
            let ioFile = "\(set).io.safetensors"
            let io = try fixture.tensors(ioFile)
            func t(_ name: String) throws -> Tensor { try fixture.tensor(io, name, file: ioFile) }
            func opt(_ name: String) throws -> Tensor? { io.shape(of: name) == nil ? nil : try t(name) }

            if ownWeights {
                let out = withNoGrad { model.imageEncoder.forwardWithIntermediates(try! t("image")) }
                checks.append(.output("\(set).image_embeddings", actual: out.imageEmbeddings, expected: try t("image_embeddings")))
                for name in io.tensorNames.sorted() where name.hasPrefix("trace.") {
                    let tap = String(name.dropFirst("trace.".count))
                    var actual: Tensor? = nil
                    if tap == "patch_embed" { actual = out.patchEmbedding }
                    else if tap.hasPrefix("layer"), let i = Int(tap.dropFirst("layer".count)), i < out.stageOutputs.count {
                        actual = out.stageOutputs[i]
                    }
                    checks.append(actual.map { .output("\(set).\(name)", actual: $0, expected: try! t(name)) } ?? .failed("\(set).\(name) (no such tap)"))
                }
                let embedding = ImageEmbedding(features: out.imageEmbeddings)
                for name in io.tensorNames.sorted() where name.hasSuffix(".low_res_logits") {
                    let c = String(name.dropLast(".low_res_logits".count))
                    let prompts = Prompts(pointCoords: try opt("\(c).point_coords"), pointLabels: try opt("\(c).point_labels"),
                                          boxes: try opt("\(c).boxes"), maskInputs: try opt("\(c).mask_inputs"))
                    let (masks, iou) = withNoGrad { model.predictAllMasks(embedding, prompts: prompts) }
                    checks.append(.output("\(set).\(name)", actual: masks, expected: try t(name)))
                    checks.append(.output("\(set).\(c).iou_predictions", actual: iou, expected: try t("\(c).iou_predictions")))
                }
                continue
            }
            let cases = meta["cases"] as? [[String: Any]] ?? []
            let dataRoot = fixture.directory.appendingPathComponent("../../data/samed2d_mini").standardizedFileURL
            for info in cases {
                guard let p = info["prefix"] as? String, let original = info["original_size"] as? [Int],
                      let resized = info["resized"] as? [Int] else { continue }
                // Preprocessing of the real file, as the predictor does it.
                if let image = info["image"] as? String,
                   let png = try? PNGCodec.read(dataRoot.appendingPathComponent(image)) {
                    let transform = ImageTransform(kind: .liteMedSAM, width: png.width, height: png.height, inputSize: model.inputSize)
                    checks.append(.output("\(set).\(p).input (preprocessing)", actual: try transform.modelInput(png), expected: try t("\(p).input")))
                }
                let embedded = withNoGrad { model.embed(try! t("\(p).input")) }
                checks.append(.output("\(set).\(p).image_embeddings", actual: embedded.features, expected: try t("\(p).image_embeddings")))
                let out = withNoGrad {
                    model.decode(ImageEmbedding(features: try! t("\(p).image_embeddings")), prompts: Prompts(boxes: try! t("\(p).boxes_model")),
                                 multimaskOutput: false)
                }
                checks.append(.output("\(set).\(p).low_res_logits", actual: out.lowResLogits, expected: try t("\(p).low_res_logits")))
                if let iou = out.iouPredictions {
                    checks.append(.output("\(set).\(p).iou_predictions", actual: iou, expected: try t("\(p).iou_predictions")))
                }
                let logits = out.lowResLogits.narrowed(2, start: 0, length: resized[0]).narrowed(3, start: 0, length: resized[1])
                let masks = withNoGrad { logits.bilinearResized(height: original[0], width: original[1]).greater(than: 0) }
                let expected = try t("\(p).masks")
                var differing = 0
                for i in 0..<min(masks.count, expected.count) where (masks.data[i] > 0.5) != (expected.data[i] > 0.5) { differing += 1 }
                if masks.count != expected.count { differing = max(masks.count, expected.count) }
                checks.append(ParityCheck(name: "\(set).\(p).masks (fraction of pixels differing)",
                                          maxError: Float(differing) / Float(max(expected.count, 1)), tolerance: 0.005))
            }
        }
        return checks
    }
}
