import Foundation
import MedImage
import SyncNN
@testable import SyncSAM
import SyncTensor
import XCTest
@testable import SyncTrain

/// A stand-in model whose logits are exactly its prompts: +10 inside the box, at positive clicks and where the mask
/// prompt is above 0.5; -10 elsewhere. Low-res size = input size, so no resampling blurs the hand-computed scores.
final class PromptEchoModel: PromptableSegmenter {
    let store = ParameterStore()
    let inputSize: Int
    var maskSize: Int { inputSize }
    init(size: Int) { inputSize = size }

    func embed(_ images: Tensor, trace: ForwardTrace?) -> ImageEmbedding {
        ImageEmbedding(features: Tensor(zeros: [images.shape[0], 1, 1, 1]))
    }

    func decode(_ embedding: ImageEmbedding, prompts: Prompts, multimaskOutput: Bool, trace: ForwardTrace?) -> MaskPrediction {
        let n = prompts.count, s = inputSize
        let out = Tensor(filled: -10, shape: [n, 1, s, s])
        for k in 0..<n {
            let plane = out.data + k * s * s
            if let b = prompts.boxes?.toArray() {
                for y in Int(b[k * 4 + 1])..<Int(b[k * 4 + 3]) { for x in Int(b[k * 4])..<Int(b[k * 4 + 2]) { plane[y * s + x] = 10 } }
            }
            if let m = prompts.maskInputs {
                for i in 0..<(s * s) where m.data[k * s * s + i] > 0.5 { plane[i] = 10 }
            }
            if let c = prompts.pointCoords?.toArray(), let l = prompts.pointLabels?.toArray() {
                let p = l.count / n
                for j in 0..<p where l[k * p + j] == 1 { plane[Int(c[(k * p + j) * 2 + 1]) * s + Int(c[(k * p + j) * 2])] = 10 }
            }
        }
        return MaskPrediction(lowResLogits: out, iouPredictions: nil)
    }
}

final class EvaluationTests: XCTestCase {
    func testHandComputedScoresPerMode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for sub in ["images", "masks"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let w = 16, h = 12   // padded to 16 x 16 = model size: no resize, padding cropped back
        try PNGCodec.writeGrey8([UInt8](repeating: 80, count: w * h), width: w, height: h, to: dir.appendingPathComponent("images/a.png"))
        var rect = [UInt8](repeating: 0, count: w * h)
        for y in 3..<9 { for x in 4..<12 { rect[y * w + x] = 255 } }   // 48 pixels
        try PNGCodec.writeGrey8(rect, width: w, height: h, to: dir.appendingPathComponent("masks/a--rect.png"))
        try PNGCodec.writeGrey8([UInt8](repeating: 0, count: w * h), width: w, height: h, to: dir.appendingPathComponent("masks/a--void.png"))
        let index = try FolderDataset.index(root: dir)

        let evaluator = Evaluator(model: PromptEchoModel(size: 16), seed: 3, nsdTolerance: 0, computeHD95: true)
        let (scores, skipped) = try evaluator.evaluate(index, records: index.records, modes: EvaluationMode.allCases)
        XCTAssertEqual(skipped, 1)
        XCTAssertEqual(scores.count, 3)
        let by = Dictionary(uniqueKeysWithValues: scores.map { ($0.mode, $0) })
        // Box: the echo model returns the box = the rectangle.
        XCTAssertEqual(by[.box]!.dice, 1, accuracy: 1e-12)
        XCTAssertEqual(by[.box]!.nsd, 1)
        XCTAssertEqual(by[.box]!.hd95, 0)
        XCTAssertEqual(by[.box]!.prompt.box, BoxPrompt(x0: 4, y0: 3, x1: 12, y1: 9))
        // One point: one pixel predicted. DSC = 2 / (1 + 48), IoU = 1 / 48.
        XCTAssertEqual(by[.onePoint]!.dice, (2 + 1e-7) / (49 + 1e-7), accuracy: 1e-12)
        XCTAssertEqual(by[.onePoint]!.iou, (1 + 1e-7) / (48 + 1e-7), accuracy: 1e-12)
        // Five points: each round adds one missed pixel (no false positives exist), fed back through the mask prompt.
        XCTAssertEqual(by[.fivePoints]!.dice, (10 + 1e-7) / (53 + 1e-7), accuracy: 1e-12)
        XCTAssertEqual(by[.fivePoints]!.prompt.points.count, 5)
        XCTAssertTrue(by[.fivePoints]!.prompt.useMaskInput)
        XCTAssertEqual(scores.meanDice()[.box]!, 1, accuracy: 1e-12)

        // Seeded per mask: the same run gives the same prompts; another seed gives others.
        XCTAssertEqual(try evaluator.evaluate(index, records: index.records, modes: EvaluationMode.allCases).scores, scores)
        var other = evaluator
        other.seed = 4
        let again = try other.evaluate(index, records: index.records, modes: [.fivePoints]).scores
        XCTAssertNotEqual(again[0].prompt, by[.fivePoints]!.prompt)
    }
}
