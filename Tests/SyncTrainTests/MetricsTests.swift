import MedImage
import XCTest
@testable import SyncTrain

final class MetricsTests: XCTestCase {
    /// Builds a mask from rows of "#" (foreground) and "." (background).
    func mask(_ rows: [String]) -> BinaryMask {
        try! BinaryMask(width: rows[0].count, height: rows.count, values: rows.joined().map { $0 == "#" ? 1 : 0 })
    }

    /// Three masks with known predictions, every metric computed by hand.
    func testHandMadeThreeMaskCase() {
        // Mask 1: G = 3x3 square, P = its top two rows (spacing 1 mm).
        //   |P∩G| = 6, |P| = 6, |G| = 9: DSC = 12/15, IoU = 6/9.
        //   ∂G = 8 ring pixels, ∂P = all 6 pixels. d(∂P -> ∂G) = [0,0,0,0,0,1] (P's centre pixel (2,2) lies 1 mm
        //   from the ring); d(∂G -> ∂P) = [0 x5, 1, 1, 1] (G's bottom row is 1 mm below P).
        //   NSD(0) = (5 + 5) / 14, NSD(1) = 1. HD95 = max(P95[0,0,0,0,0,1] = 0.75, P95[0 x5,1,1,1] = 1) = 1.
        let g1 = mask([".....", ".###.", ".###.", ".###.", "....."])
        let p1 = mask([".....", ".###.", ".###.", ".....", "....."])
        // Mask 2: single pixels 3 columns and 1 row apart, spacing x 0.5 mm, y 2 mm: distance sqrt(1.5^2 + 2^2) = 2.5.
        //   DSC = 1e-7 / (2 + 1e-7), IoU = 1e-7 / (2 + 1e-7), NSD(2) = 0, NSD(2.5) = 1, HD95 = 2.5.
        let g2 = mask(["......", ".#....", "......"])
        let p2 = mask(["......", "......", "....#."])
        let s2 = PixelSpacing(x: 0.5, y: 2)
        // Mask 3: nothing predicted for a 2-pixel target: DSC = IoU = 1e-7 / (2 + 1e-7), NSD 0, HD95 undefined.
        let g3 = mask(["##..", "...."])
        let p3 = mask(["....", "...."])

        XCTAssertEqual(OverlapMetrics.dice(p1, g1), (12 + 1e-7) / (15 + 1e-7), accuracy: 1e-12)
        XCTAssertEqual(OverlapMetrics.iou(p1, g1), (6 + 1e-7) / (9 + 1e-7), accuracy: 1e-12)
        XCTAssertEqual(SurfaceMetrics.nsd(p1, g1, tolerance: 0), 10.0 / 14.0, accuracy: 1e-12)
        XCTAssertEqual(SurfaceMetrics.nsd(p1, g1, tolerance: 1), 1, accuracy: 1e-12)
        XCTAssertEqual(SurfaceMetrics.directedSurfaceDistances(from: p1, to: g1, spacing: PixelSpacing(x: 1, y: 1)).sorted(),
                       [0, 0, 0, 0, 0, 1])
        XCTAssertEqual(try XCTUnwrap(SurfaceMetrics.hd95(p1, g1)), 1, accuracy: 1e-12)
        XCTAssertEqual(SurfaceMetrics.percentile([0, 0, 0, 0, 0, 1], 95), 0.75, accuracy: 1e-12)

        XCTAssertEqual(OverlapMetrics.dice(p2, g2), 1e-7 / (2 + 1e-7), accuracy: 1e-15)
        XCTAssertEqual(OverlapMetrics.iou(p2, g2), 1e-7 / (2 + 1e-7), accuracy: 1e-15)
        XCTAssertEqual(SurfaceMetrics.nsd(p2, g2, tolerance: 2, spacing: s2), 0)
        XCTAssertEqual(SurfaceMetrics.nsd(p2, g2, tolerance: 2.5, spacing: s2), 1)
        XCTAssertEqual(try XCTUnwrap(SurfaceMetrics.hd95(p2, g2, spacing: s2)), 2.5, accuracy: 1e-12)

        XCTAssertEqual(OverlapMetrics.dice(p3, g3), 1e-7 / (2 + 1e-7), accuracy: 1e-15)
        XCTAssertEqual(SurfaceMetrics.nsd(p3, g3, tolerance: 5), 0)
        XCTAssertNil(SurfaceMetrics.hd95(p3, g3))

        // Mean DSC over the three masks (SPEC 7.1 aggregation: mean over masks).
        let mean = [OverlapMetrics.dice(p1, g1), OverlapMetrics.dice(p2, g2), OverlapMetrics.dice(p3, g3)].reduce(0, +) / 3
        XCTAssertEqual(mean, 0.8 / 3, accuracy: 1e-7)
    }

    func testEmptyConventions() {
        let e = BinaryMask.empty(width: 3, height: 3)
        XCTAssertEqual(OverlapMetrics.dice(e, e), 1)
        XCTAssertEqual(OverlapMetrics.iou(e, e), 1)
        XCTAssertEqual(SurfaceMetrics.nsd(e, e, tolerance: 1), 1)
        XCTAssertEqual(SurfaceMetrics.hd95(e, e), 0)
        let full = try! BinaryMask(width: 3, height: 3, values: [UInt8](repeating: 1, count: 9))
        XCTAssertNil(SurfaceMetrics.hd95(full, e))
        XCTAssertEqual(SurfaceMetrics.nsd(e, full, tolerance: 10), 0)
        // A fully foreground image: every pixel touching the border is surface, the centre is not.
        XCTAssertEqual(SurfaceMetrics.surface(of: full).count, 8)
    }

    /// The distance transform against brute force on random sites with anisotropic spacing.
    func testDistanceTransformMatchesBruteForce() {
        var rng = SeededRandomGenerator(seed: 11)
        for trial in 0..<20 {
            let w = 3 + rng.next() % 12, h = 3 + rng.next() % 12
            let sites = (0..<(w * h)).filter { _ in rng.next() % 9 == 0 }
            let spacing = PixelSpacing(x: 0.3 + Double(rng.next() % 10) / 5, y: 0.3 + Double(rng.next() % 10) / 5)
            let dt = SurfaceMetrics.distanceTransform(sites: sites, width: w, height: h, spacing: spacing)
            for i in 0..<(w * h) {
                let best = sites.map { s -> Double in
                    let dx = Double(s % w - i % w) * spacing.x, dy = Double(s / w - i / w) * spacing.y
                    return (dx * dx + dy * dy).squareRoot()
                }.min() ?? .infinity
                if best.isInfinite { XCTAssertTrue(dt[i].isInfinite) } else {
                    XCTAssertEqual(dt[i], best, accuracy: 1e-9, "trial \(trial) pixel \(i)")
                }
            }
        }
    }
}

/// Tiny LCG for test inputs (independent of the code under test).
struct SeededRandomGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int(state >> 33)
    }
}
