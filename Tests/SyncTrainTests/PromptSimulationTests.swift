import Foundation
import MedImage
import XCTest
@testable import SyncTrain

final class PromptSimulationTests: XCTestCase {
    func mask(_ rows: [String]) -> BinaryMask {
        try! BinaryMask(width: rows[0].count, height: rows.count, values: rows.joined().map { $0 == "#" ? 1 : 0 })
    }

    func testComponentsUseEightConnectivityAndExclusiveMaxima() {
        let m = mask(["##......",
                      "..#.....",
                      "........",
                      ".....###",
                      ".....##."])
        // MedImage's labelling, as the box prompt uses it.
        let cc = ConnectedComponents.label(m).components
        XCTAssertEqual(cc.count, 2)                      // the diagonal pixel joins the first component
        XCTAssertEqual(cc.map(\.area), [3, 5])
        XCTAssertEqual(cc[0].box, PixelBox(x0: 0, y0: 0, x1: 3, y1: 2))
        XCTAssertEqual(ConnectedComponents.largestComponentBox(m), PixelBox(x0: 5, y0: 3, x1: 8, y1: 5))
        XCTAssertEqual(ConnectedComponents.largest(mask(["#.#"]))?.label, 1)   // ties: first in raster order
        XCTAssertNil(ConnectedComponents.largestComponentBox(BinaryMask.empty(width: 2, height: 2)))
    }

    func testEvaluationBoxIsLargestComponentWithoutJitter() {
        var sim = PromptSimulator(seed: 1)
        let m = mask(["#.........", "..........", "...####...", "...####...", "..........", ".........#"])
        XCTAssertEqual(sim.box(for: m, jitter: false), BoxPrompt(x0: 3, y0: 2, x1: 7, y1: 4))
    }

    /// Jitter: one translation (dx, dy) in {-m..m-1}, m = min(5, int(5 * 0.1 * min(w, h))).
    func testTrainingBoxJitterIsABoundedTranslation() {
        var sim = PromptSimulator(seed: 2)
        var m = BinaryMask.empty(width: 64, height: 64)
        for y in 10..<40 { for x in 20..<50 { m.values[y * 64 + x] = 1 } }   // 30x30: m = min(5, 15) = 5
        var seenX = Set<Int>(), seenY = Set<Int>()
        for _ in 0..<400 {
            let b = sim.box(for: m, jitter: true)!
            let dx = Int(b.x0) - 20, dy = Int(b.y0) - 10
            XCTAssertEqual(Int(b.x1) - 50, dx); XCTAssertEqual(Int(b.y1) - 40, dy)
            seenX.insert(dx); seenY.insert(dy)
        }
        XCTAssertEqual(seenX, Set(-5...4)); XCTAssertEqual(seenY, Set(-5...4))
        // A 4x4 object: noise_std 0.4, int(2.0) = 2 -> offsets in {-2..1}.
        var small = BinaryMask.empty(width: 16, height: 16)
        for y in 4..<8 { for x in 4..<8 { small.values[y * 16 + x] = 1 } }
        let offsets = Set((0..<200).map { _ in Int(sim.box(for: small, jitter: true)!.x0) - 4 })
        XCTAssertEqual(offsets, Set(-2...1))
        // A 1-pixel-wide object: max_noise 0, never moved.
        let line = mask(["......", ".####.", "......"])
        for _ in 0..<20 { XCTAssertEqual(sim.box(for: line, jitter: true), BoxPrompt(x0: 1, y0: 1, x1: 5, y1: 2)) }
    }

    func testRandomPointsAndErrorClicks() {
        var sim = PromptSimulator(seed: 3)
        let gt = mask(["....", ".##.", ".##.", "...."])
        for _ in 0..<50 {
            let p = sim.randomPoint(in: gt)
            XCTAssertEqual(p.label, 1)
            XCTAssertTrue(gt[Int(p.y), Int(p.x)])
        }
        let bg = sim.randomPoint(in: BinaryMask.empty(width: 3, height: 2))
        XCTAssertEqual(bg.label, 0)
        // Prediction misses (1,1) (false negative) and adds (3,3) (false positive).
        let pred = mask(["....", "..#.", ".##.", "...#"])
        let clicks = sim.errorClicks(prediction: pred, target: gt, count: 200)
        XCTAssertEqual(Set(clicks), [PointPrompt(x: 1, y: 1, label: 1), PointPrompt(x: 3, y: 3, label: 0)])
        // No error: random pixels labelled -1.
        let none = sim.errorClicks(prediction: gt, target: gt, count: 9)
        XCTAssertEqual(none.count, 9)
        XCTAssertTrue(none.allSatisfy { $0.label == -1 && $0.x >= 0 && $0.x < 4 && $0.y >= 0 && $0.y < 4 })
    }

    func testInnerScheduleAndReproducibility() {
        var sim = PromptSimulator(seed: 4)
        var randomMaskOnly = Set<Int>()
        for _ in 0..<300 {
            let its = sim.innerIterations()
            XCTAssertEqual(its.count, 8)
            let maskOnly = its.filter(\.maskOnly).map(\.index)
            XCTAssertEqual(maskOnly.count, 2)
            XCTAssertEqual(maskOnly.last, 7)
            randomMaskOnly.insert(maskOnly[0])
            XCTAssertTrue(its.allSatisfy { $0.maskOnly ? $0.clickCount == 0 : [1, 3, 5, 9].contains($0.clickCount) })
        }
        XCTAssertEqual(randomMaskOnly, Set(1...6))
        // Same seed, same prompts; the generator state is saved with the simulator.
        var a = PromptSimulator(seed: 9), b = PromptSimulator(seed: 9)
        let gt = mask(["..##", "..##", "...."])
        XCTAssertEqual(a.firstTrainingPrompt(for: gt, box: true), b.firstTrainingPrompt(for: gt, box: true))
        let saved = try! JSONEncoder().encode(a)
        var restored = try! JSONDecoder().decode(PromptSimulator.self, from: saved)
        XCTAssertEqual(restored.innerIterations(), a.innerIterations())
        // The first-prompt coin is fair.
        var coin = PromptSimulator(seed: 5)
        let boxes = (0..<4000).filter { _ in coin.startsWithBox() }.count
        XCTAssertEqual(Double(boxes) / 4000, 0.5, accuracy: 0.03)
    }

    /// 5-point evaluation with a stand-in predictor that segments exactly the clicked foreground pixels.
    func testInteractiveEvaluationAccumulatesClicksWithMaskFeedback() {
        var sim = PromptSimulator(seed: 6)
        let gt = mask(["......", ".####.", ".####.", "......"])
        let (prediction, rounds) = sim.interactiveEvaluation(target: gt, clicks: 5) { prompt in
            var m = BinaryMask.empty(width: 6, height: 4)
            for p in prompt.points where p.label == 1 { m.values[Int(p.y) * 6 + Int(p.x)] = 1 }
            return m
        }
        XCTAssertEqual(rounds.count, 5)
        XCTAssertEqual(rounds.map(\.points.count), [1, 2, 3, 4, 5])
        XCTAssertEqual(rounds.map(\.useMaskInput), [false, true, true, true, true])
        for k in 1..<5 { XCTAssertEqual(Array(rounds[k].points.prefix(k)), rounds[k - 1].points) }
        // Every click was a missed foreground pixel, so each round adds a new one (5 distinct pixels predicted).
        XCTAssertEqual(Set(rounds[4].points).count, 5)
        XCTAssertEqual(prediction.area, 5)
    }

    func testPromptBookRoundTrip() throws {
        var book = PromptBook(seed: 42, mode: "box")
        book.prompts["masks/a.png"] = PromptSet(box: BoxPrompt(x0: 1, y0: 2, x1: 3, y1: 4))
        book.prompts["masks/b.png"] = PromptSet(points: [PointPrompt(x: 5, y: 6, label: 1)], useMaskInput: true)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("prompts-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try book.save(url)
        XCTAssertEqual(try PromptBook.load(url), book)
    }
}
