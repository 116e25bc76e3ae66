import Foundation
import SyncNN
import SyncTensor
import XCTest
@testable import SyncSAM

/// Forward parity with every fixture set of `shared/fixtures` (SyncSAM cases and traces, SAM native and adapted).
final class ParityTests: XCTestCase {
    func testEveryFixtureSetMatchesTheReference() throws {
        let sets = try fixtureSets()
        XCTAssertFalse(sets.isEmpty, "no fixture sets found")
        for dir in sets {
            let runner = ParityRunner(directory: dir, open: openTensorFile)
            let checks = try runner.run()
            XCTAssertFalse(checks.isEmpty, "\(dir.lastPathComponent): no checks ran")
            let worst = checks.max { $0.maxError / max($0.tolerance, 1e-30) < $1.maxError / max($1.tolerance, 1e-30) }
            print("parity \(dir.lastPathComponent): \(checks.count) checks, \(checks.filter(\.passed).count) passed; worst \(worst.map(\.description) ?? "-")")
            for c in checks where !c.passed { XCTFail("\(dir.lastPathComponent): \(c)") }
        }
    }
}

extension ParityTests {
    /// With the paper's trainable set requiring gradients, the forward runs on the tape (differentiable attention,
    /// BatchNorm in eval) and must give the same logits as the inference path; gradients reach the CNN.
    func testTapedForwardMatchesTheReference() throws {
        for dir in try fixtureSets() {
            let fixture = ParityFixture(directory: dir, open: openTensorFile)
            guard fixture.exists("syncsam.json") else { continue }
            let model = SyncSAMModel(config: try fixture.config("syncsam.json"))
            try model.load(from: try fixture.weights("syncsam"))
            let io = try fixture.tensors("syncsam.io.safetensors")
            let images = try fixture.tensor(io, "images", file: "io")
            restoreEvalBatchNormStatistics(model, images: images)
            let name = try XCTUnwrap(ParityFixture.forwardCases(in: io).first)
            let prompts = try fixture.prompts(io, prefix: name, file: "io")
            let out = model.decode(model.embed(images), prompts: prompts).lowResLogits
            XCTAssertTrue(out.requiresGrad, "the tape should be recorded")
            let expected = try fixture.tensor(io, "\(name).low_res_logits", file: "io")
            let check = ParityCheck.output("taped \(name)", actual: out, expected: expected)
            XCTAssertTrue(check.passed, "\(dir.lastPathComponent): \(check)")
            // Gradients reach the CNN stem through the frozen ViT blocks; frozen ViT weights get none.
            out.sum().backward()
            let stemGrad = try XCTUnwrap(model.store["image_encoder.cnn.conv1.weight"]?.grad)
            XCTAssertGreaterThan(stemGrad.toArray().map(abs).max()!, 0)
            XCTAssertNil(model.store["image_encoder.blocks.0.attn.qkv.weight"]?.grad)
        }
    }
}
