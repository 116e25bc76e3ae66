import Foundation
import MedImage
@testable import SyncSAM
import XCTest
@testable import SyncTrain

/// The evaluation protocol end to end on hand-made data with the prompt-echo model (its prediction is exactly its
/// box), so every metric is computable by hand; reproducibility through the saved prompts; the baselines.
final class EvalProtocolTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evalproto-\(UUID().uuidString)")
        for sub in ["images", "masks"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Writes a 16 x 16 image `name` and its masks, each given as foreground (row, column) pixels.
    func write(_ name: String, masks: [String: [(Int, Int)]]) throws {
        let s = 16
        try PNGCodec.writeGrey8([UInt8](repeating: 90, count: s * s), width: s, height: s,
                                to: dir.appendingPathComponent("images/\(name).png"))
        for (m, pixels) in masks {
            var v = [UInt8](repeating: 0, count: s * s)
            for (y, x) in pixels { v[y * s + x] = 255 }
            try PNGCodec.writeGrey8(v, width: s, height: s, to: dir.appendingPathComponent("masks/\(name)--\(m).png"))
        }
    }

    func block(rows: Range<Int>, cols: Range<Int>) -> [(Int, Int)] { rows.flatMap { y in cols.map { (y, $0) } } }

    /// Three masks, model size = image size (no resampling): the echo model predicts the largest-component box.
    /// A: 4x4 square -> perfect. B: 3x3 block without its top-right pixel (8 px) -> box of 9 px.
    /// C: 2x2 block + a separate pixel 3 columns right of it -> box of the 2x2 block only.
    func makeDataset() throws -> DatasetIndex {
        try write("one", masks: ["a": block(rows: 2..<6, cols: 2..<6),
                                 "b": block(rows: 8..<11, cols: 2..<5).filter { $0 != (8, 4) }])
        try write("two", masks: ["c": block(rows: 12..<14, cols: 10..<12) + [(12, 14)]])
        return try FolderDataset.index(root: dir)
    }

    func testHandComputedMetricsAndAggregation() throws {
        let index = try makeDataset()
        var e = Evaluator(model: PromptEchoModel(size: 16), seed: 0, nsdTolerance: 2, computeHD95: true)
        e.name = "echo"
        e.baselines = true
        let outcome = try e.run(index, records: index.records, modes: [.box], seeds: [0, 1, 2])
        XCTAssertEqual(outcome.skipped, 0)
        let echo = Dictionary(uniqueKeysWithValues: outcome.scores.filter { $0.method == "echo" && $0.seed == 0 }
            .map { (($0.maskID as NSString).lastPathComponent, $0) })
        let a = try XCTUnwrap(echo["one--a.png"]), b = try XCTUnwrap(echo["one--b.png"]), c = try XCTUnwrap(echo["two--c.png"])
        let eps = 1e-7
        // A: identical.
        XCTAssertEqual(a.dice, 1, accuracy: 1e-12)
        XCTAssertEqual(a.iou, 1, accuracy: 1e-12)
        XCTAssertEqual(a.nsd, 1)
        XCTAssertEqual(a.hd95, 0)
        // B: |P∩G| = 8, |P| = 9, |G| = 8. ∂G = 7 pixels (the centre is interior), ∂P = 8 ring pixels; only P's
        // extra corner is off ∂G, at 1 mm. NSD(2 mm) = 1; HD95 = P95 of [0 x 7, 1] = 0.65 (NumPy linear).
        XCTAssertEqual(b.dice, (16 + eps) / (17 + eps), accuracy: 1e-12)
        XCTAssertEqual(b.iou, (8 + eps) / (9 + eps), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(b.nsd), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(b.hd95), 0.65, accuracy: 1e-12)
        XCTAssertEqual(b.prompt.box, BoxPrompt(x0: 2, y0: 8, x1: 5, y1: 11))
        // C: P = the 2x2 block: |P∩G| = 4, |P| = 4, |G| = 5. The lone pixel lies 3 mm from ∂P:
        // NSD(2 mm) = (4 + 4) / 9; HD95 = max(0, P95 of [0, 0, 0, 0, 3] = 2.4).
        XCTAssertEqual(c.dice, (8 + eps) / (9 + eps), accuracy: 1e-12)
        XCTAssertEqual(c.iou, (4 + eps) / (5 + eps), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(c.nsd), 8.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(c.hd95), 2.4, accuracy: 1e-12)

        // Aggregation: mean over masks, or per image then over images; box scores count for every seed.
        let perMask = EvaluationSummary(scores: outcome.scores)
        let cell = try XCTUnwrap(perMask.cell("echo", .box))
        XCTAssertEqual(cell.masks, 3)
        XCTAssertEqual(cell.images, 2)
        XCTAssertEqual(cell.dice.perSeed.count, 3)
        XCTAssertEqual(cell.dice.mean, (a.dice + b.dice + c.dice) / 3, accuracy: 1e-12)
        XCTAssertEqual(cell.dice.sd, 0, accuracy: 1e-15)
        XCTAssertEqual(cell.iou.mean, (a.iou + b.iou + c.iou) / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(cell.nsd).mean, (1 + 1 + 8.0 / 9.0) / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(cell.hd95).mean, (0 + 0.65 + 2.4) / 3, accuracy: 1e-12)
        let perImage = try XCTUnwrap(EvaluationSummary(scores: outcome.scores, aggregation: .perImage).cell("echo", .box))
        XCTAssertEqual(perImage.dice.mean, ((a.dice + b.dice) / 2 + c.dice) / 2, accuracy: 1e-12)

        // The filled-box baseline is exactly the echo model's prediction; the ellipse in A's 4x4 box drops the
        // 4 corner pixels (12 px): DSC 24 / 28.
        let filled = try XCTUnwrap(perMask.cell(BaselinePredictor.filledBox.rawValue, .box))
        XCTAssertEqual(filled.dice.mean, cell.dice.mean, accuracy: 1e-12)
        let ellipseA = try XCTUnwrap(outcome.scores.first { $0.method == BaselinePredictor.ellipse.rawValue && $0.maskID.hasSuffix("one--a.png") })
        XCTAssertEqual(ellipseA.dice, (24 + eps) / (28 + eps), accuracy: 1e-12)

        // The Markdown table carries the baselines with n/a under point prompts only when those modes ran.
        let md = EvaluationReport(title: "t", notes: [], summary: perMask, nsdTolerance: 2).markdown()
        XCTAssertTrue(md.contains(String(format: "| echo | %.1f ± 0.0 |", 100 * cell.dice.mean)))
        XCTAssertTrue(md.contains("Ellipse in box (baseline)"))
    }

    func testSameSeedSamePromptsAndNumbersAndPromptFileReplays() throws {
        let index = try makeDataset()
        let e = Evaluator(model: PromptEchoModel(size: 16), seed: 5, nsdTolerance: 1, computeHD95: true)
        let modes = EvaluationMode.allCases
        let first = try e.run(index, records: index.records, modes: modes, seeds: [5, 6, 7]).scores
        let again = try e.run(index, records: index.records, modes: modes, seeds: [5, 6, 7]).scores
        XCTAssertEqual(first, again)
        // Seeds differ from each other (random clicks).
        let clicks = Set(first.filter { $0.mode == .onePoint && $0.maskID.hasSuffix("one--a.png") }.map { $0.prompt.points })
        XCTAssertGreaterThan(clicks.count, 1)

        // Saved to JSON and read back: the same prompts; a run from the file reproduces every score, even with
        // generators seeded for other runs (the file wins for boxes and first clicks).
        let url = dir.appendingPathComponent("prompts.json")
        try EvaluationPrompts(scores: first, boxRule: .largestComponent).save(url)
        let loaded = try EvaluationPrompts.load(url)
        XCTAssertEqual(loaded, EvaluationPrompts(scores: first, boxRule: .largestComponent))
        for s in first { XCTAssertEqual(loaded.prompt(seed: s.seed, mode: s.mode, maskID: s.maskID), s.prompt) }
        let replay = try e.run(index, records: index.records, modes: modes, seeds: [5, 6, 7], prompts: loaded).scores
        XCTAssertEqual(replay, first)
        let onePoint = first.filter { $0.mode == .onePoint }
        var other = e
        other.seed = 99
        let fromFile = try other.run(index, records: index.records, modes: [.onePoint], seeds: [5, 6, 7], prompts: loaded).scores
        XCTAssertEqual(fromFile.map(\.prompt), onePoint.map(\.prompt))
        XCTAssertEqual(fromFile.map(\.dice), onePoint.map(\.dice))
    }

    func testBaselinesOnHandMadeBoxes() {
        // Region [2, 6) x [2, 6): the filled box is the 16 pixels; the inscribed ellipse (centre 4, semi-axes 2)
        // keeps a pixel when ((x + 0.5 - 4) / 2)^2 + ((y + 0.5 - 4) / 2)^2 <= 1: all but the 4 corners.
        let r = PixelRegion(x0: 2, y0: 2, x1: 6, y1: 6)
        let box = BaselinePredictor.filledBox.mask(region: r, width: 8, height: 8)
        let ell = BaselinePredictor.ellipse.mask(region: r, width: 8, height: 8)
        XCTAssertEqual(box.area, 16)
        XCTAssertEqual(box.boundingBox, PixelBox(x0: 2, y0: 2, x1: 5, y1: 5))
        XCTAssertEqual(ell.area, 12)
        for (y, x) in [(2, 2), (2, 5), (5, 2), (5, 5)] { XCTAssertFalse(ell[y, x]) }
        for (y, x) in [(2, 3), (3, 2), (3, 3), (5, 4)] { XCTAssertTrue(ell[y, x]) }
        // A wide region [0, 7) x [1, 4): centre (3.5, 2.5), semi-axes 3.5 and 1.5. Row 1 (dy = -2/3): |dx| <= 0.745,
        // so x + 0.5 in [0.89, 6.11]: columns 1...5. Row 2 (dy = 0): all 7 columns. Row 3 as row 1.
        let wide = BaselinePredictor.ellipse.mask(region: PixelRegion(x0: 0, y0: 1, x1: 7, y1: 4), width: 8, height: 5)
        XCTAssertEqual(wide.values, [0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 1, 1, 1, 1, 1, 0, 0,
                                     1, 1, 1, 1, 1, 1, 1, 0,
                                     0, 1, 1, 1, 1, 1, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 0])
        // Fractional edges: pixel centres 1.5, 2.5, 3.5 lie in [1.2, 3.7); the region is clipped to the image.
        let frac = BaselinePredictor.filledBox.mask(region: PixelRegion(x0: 1.2, y0: -3, x1: 3.7, y1: 1), width: 5, height: 3)
        XCTAssertEqual(frac.values, [0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertTrue(BaselinePredictor.ellipse.mask(region: PixelRegion(x0: 3, y0: 3, x1: 3, y1: 5), width: 5, height: 5).isEmpty)
    }

    func testRecordSelection() throws {
        let index = try makeDataset()
        var s = RecordSelection()
        s.sortedKeys = true
        s.firstImages = 1
        s.masksPerImage = 1
        let r = try s.apply(to: index).records
        XCTAssertEqual(r.map(\.id), ["images/one.png"])
        XCTAssertEqual(r[0].masks.map(\.id), ["masks/one--a.png"])
        XCTAssertEqual(s.description(split: nil), "all images, images in sorted key order, first 1 images, first 1 masks of each image")
    }
}
