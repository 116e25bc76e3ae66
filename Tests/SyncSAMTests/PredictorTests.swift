import Foundation
import MedImage
import SyncIO
import SyncNN
import SyncTensor
import XCTest
@testable import SyncSAM

/// The predictor against the fixtures (same logits for the same prompts) and its geometry (mapping back to a
/// non-square original, SAM preprocessing).
final class PredictorTests: XCTestCase {
    /// With the fixture image's embedding cached and an original image of exactly the model size (scale 1), the
    /// predictor's low-res logits for the `box` case equal the reference's.
    func testLowResLogitsMatchFixtureForBoxPrompts() throws {
        for dir in try fixtureSets() where FileManager.default.fileExists(atPath: dir.appendingPathComponent("syncsam.json").path) {
            let fixture = ParityFixture(directory: dir, open: openTensorFile)
            let model = SyncSAMModel(config: try fixture.config("syncsam.json"))
            try model.load(from: try fixture.weights("syncsam"))
            let io = try fixture.tensors("syncsam.io.safetensors")
            let images = try fixture.tensor(io, "images", file: "io")
            // The weights file holds BatchNorm statistics after the fixture's training step; the forward cases
            // were computed with the statistics before it.
            restoreEvalBatchNormStatistics(model, images: images)
            let boxes = try fixture.tensor(io, "box.boxes", file: "io")
            let expected = try fixture.tensor(io, "box.low_res_logits", file: "io")
            let s = model.inputSize
            let predictor = Predictor(model: model, preprocessing: .sam, maskPromptIsProbability: true, hasMultimaskHead: false)
            let perImage = boxes.shape[0] / images.shape[0]
            for img in 0..<images.shape[0] {
                let e = withNoGrad { model.embed(images.narrowed(0, start: img, length: 1)) }
                predictor.setEmbedding(e, width: s, height: s)
                let objects = (0..<perImage).map { j -> ObjectPrompt in
                    let b = boxes.data + (img * perImage + j) * 4
                    return ObjectPrompt(box: .init(x0: Double(b[0]), y0: Double(b[1]), x1: Double(b[2]), y1: Double(b[3])))
                }
                let out = try predictor.predict(objects)
                for (j, o) in out.enumerated() {
                    let want = expected.narrowed(0, start: img * perImage + j, length: 1)
                    let check = ParityCheck.output("\(dir.lastPathComponent) box \(img).\(j)", actual: o.lowResLogits!, expected: want)
                    XCTAssertTrue(check.passed, "\(check)")
                    XCTAssertEqual(o.label, j + 1)
                    XCTAssertEqual(o.mask.width, s)
                }
            }
        }
    }

    /// Mapping back on a non-square original: 100 wide x 50 high at S = 64 (scale 0.64, content 64 x 32).
    /// Low-res logits that ramp with x (zero crossing at the middle of the 16-column grid, i.e. model x = 32)
    /// must give a mask whose boundary sits at original x = 32 / 0.64 = 50; the padded rows are cropped away.
    func testLogitsMapBackToNonSquareOriginal() {
        let t = ImageTransform(kind: .sam, width: 100, height: 50, inputSize: 64)
        XCTAssertEqual(t.contentWidth, 64)
        XCTAssertEqual(t.contentHeight, 32)
        var ramp = [Float]()
        for _ in 0..<16 { for c in 0..<16 { ramp.append(Float(c) - 7.5) } }
        let full = t.logitsToOriginal(Tensor(shape: [1, 1, 16, 16], values: ramp))
        XCTAssertEqual(full.shape, [1, 1, 50, 100])
        for row in [0, 25, 49] {
            let line = (0..<100).map { full.data[row * 100 + $0] > 0 }
            XCTAssertEqual(line.firstIndex(of: true), 50, "row \(row)")
        }
        // A model pixel maps to original pixels by 1 / scale.
        let (x, y) = t.toModel(50, 25)
        XCTAssertEqual(x, 32, accuracy: 1e-9)
        XCTAssertEqual(y, 16, accuracy: 1e-9)
    }

    /// SAM preprocessing pads bottom/right with 0 before resizing, then normalises: the padding becomes
    /// -mean/std per channel, and a uniform grey image becomes (v - mean) / std inside the content.
    func testSAMPreprocessingPadsAndNormalises() throws {
        let image = try Image2D(width: 8, height: 4, channels: 1, pixels: [Float](repeating: 200, count: 32))
        let t = ImageTransform(kind: .sam, width: 8, height: 4, inputSize: 8)
        let x = try t.modelInput(image)
        XCTAssertEqual(x.shape, [1, 3, 8, 8])
        for c in 0..<3 {
            let mean = ImageTransform.pixelMean[c], std = ImageTransform.pixelStd[c]
            XCTAssertEqual(x.data[c * 64 + 0], (200 - mean) / std, accuracy: 1e-5)       // row 0, inside
            XCTAssertEqual(x.data[c * 64 + 7 * 8 + 7], (0 - mean) / std, accuracy: 1e-5) // row 7, padding
        }
    }

    /// LiteMedSAM preprocessing: min-max to [0, 1] over the resized content, zero padding outside.
    func testLiteMedSAMPreprocessingMinMaxAndZeroPad() throws {
        var px = [Float](repeating: 10, count: 8 * 4)
        px[0] = 250
        let image = try Image2D(width: 8, height: 4, channels: 1, pixels: px)
        let t = ImageTransform(kind: .liteMedSAM, width: 8, height: 4, inputSize: 8)
        let x = try t.modelInput(image)
        XCTAssertEqual(x.data[0], 1, accuracy: 1e-6)
        XCTAssertEqual(x.data[1], 0, accuracy: 1e-6)
        XCTAssertEqual(x.data[7 * 8 + 7], 0)
    }

    func testInvalidPromptsAreRejectedWithOneLineMessages() {
        let box = ObjectPrompt(box: .init(x0: 10, y0: 10, x1: 10, y1: 20))
        XCTAssertThrowsError(try box.validate(width: 50, height: 50)) { e in
            XCTAssertEqual("\(e)", "box 10.0,10.0,10.0,20.0 has zero area (need x0 < x1 and y0 < y1)")
        }
        let outside = ObjectPrompt(box: .init(x0: 0, y0: 0, x1: 60, y1: 20))
        XCTAssertThrowsError(try outside.validate(width: 50, height: 50)) { e in
            XCTAssertEqual("\(e)", "box 0.0,0.0,60.0,20.0 lies outside the 50x50 image")
        }
        let label = ObjectPrompt(points: [.init(x: 1, y: 1, label: 2)])
        XCTAssertThrowsError(try label.validate(width: 50, height: 50)) { e in
            XCTAssertEqual("\(e)", "point label 2 is not 0 (background) or 1 (foreground)")
        }
    }
}
