import Foundation
import SyncNN
import SyncTensor
import XCTest
import SyncSAM

/// Opt-in timing of the full-size LiteMedSAM encoder (`SYNCSAM_BENCH=1`; meaningful in release:
/// `SYNCSAM_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter TinyViTTimingTests`).
/// Prints the median wall time of 3 inference passes at 256x256 after one warm-up with the process CPU time of that
/// pass (the machine is shared: CPU time is the steadier figure), and a per-stage breakdown.
final class TinyViTTimingTests: XCTestCase {
    func testEncoderForwardTime() throws {
        guard ProcessInfo.processInfo.environment["SYNCSAM_BENCH"] == "1" else { throw XCTSkip("set SYNCSAM_BENCH=1 to time the encoder") }
        let store = ParameterStore(seed: 1)
        let encoder = try TinyViTEncoder(store.root["image_encoder"], config: .liteMedSAM)
        var rng = SeededRandom(seed: 2)
        let image = Tensor.randomNormal([1, 3, 256, 256], using: &rng)
        func cpuSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        func measure(_ body: () -> Tensor) -> (wall: Double, cpu: Double) {
            let start = DispatchTime.now().uptimeNanoseconds, cpu = cpuSeconds()
            _ = withNoGrad(body)
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpuSeconds() - cpu)
        }
        func time(_ body: () -> Tensor) -> Double { measure(body).wall }
        _ = time { encoder(image) }
        let runs = (0..<3).map { _ in measure { encoder(image) } }.sorted { $0.wall < $1.wall }
        print(String(format: "TinyViT encoder 256x256: median %.3f s wall, %.3f s CPU (walls %@), %d workers",
                     runs[1].wall, runs[1].cpu, runs.map { String(format: "%.3f", $0.wall) }.joined(separator: ", "),
                     Parallel.workers))

        // Breakdown: each part timed on its own input.
        var x = withNoGrad { encoder.patchEmbed(image) }
        var parts = [String(format: "patch_embed %.3f", time { encoder.patchEmbed(image) })]
        let embedded = x
        parts.append(String(format: "layers.0 %.3f", time { encoder.convStage(embedded) }))
        x = withNoGrad { encoder.convStage(embedded) }
        for (i, stage) in encoder.stages.enumerated() {
            let input = x
            parts.append(String(format: "layers.%d %.3f", i + 1, time { stage(input) }))
            x = withNoGrad { stage(input) }
        }
        print("TinyViT breakdown (s): " + parts.joined(separator: ", "))
    }
}
