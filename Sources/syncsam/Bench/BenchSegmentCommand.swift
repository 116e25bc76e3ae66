import ArgumentParser
import Foundation
import MedImage
import SyncSAM
import SyncTensor

/// `syncsam bench segment`: end to end with the real default model (or --checkpoint) on the bundled 512x512 CT
/// slice: one box (embedding included, file loading excluded), each extra click with the embedding cached, and a
/// 100-slice volume (the 20-slice DICOM series of the shared data stacked five times, or any --volume).
struct BenchSegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "segment", abstract: "End-to-end segmentation timings.")

    @Option(help: "Checkpoint (default: LiteMedSAM from the cache).") var checkpoint: String?
    @Option(help: "Model config for --checkpoint.") var config: String?
    @Option(help: "2-D image to segment.") var image = "Examples/ct_abdomen.png"
    @Option(help: "Box on the image.") var box = "107,193,260,374"
    @Option(help: "Volume (file or DICOM folder) for the volume timing; skipped when absent.")
    var volume = "../shared/data/readers/dicom/ct_series_totalseg"
    @Option(help: "Slices of the volume timing (the volume is repeated along z to reach it).") var slices = 100
    @Option(help: "Timed runs.") var runs = 5
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        let model: LoadedModel
        do { model = try checkpoint.map { try ModelFactory.load(checkpoint: $0, config: config) } ?? ModelFactory.loadDefault() }
        catch { fail("\(error)") }
        let predictor = model.predictor()
        let input: SegmentationInput
        let prompt: ObjectPrompt
        do {
            input = try SegmentationInput.load(URL(fileURLWithPath: image))
            prompt = ObjectPrompt(box: try SegmentationPrompts.parseBox(box))
        } catch { fail("\(error)") }
        let display = try input.displayImage()
        var results: [String: Double] = [:]
        // One box: embedding + decode + mapping back.
        let firstBox = TimingSummary(BenchClock.samples(warmup: 1, runs: runs) {
            try! predictor.setImage(display)
            _ = try! predictor.predict([prompt])
        })
        results["box_seconds_median"] = firstBox.median
        // Extra clicks with the embedding cached: the previous round's logits fed back as the mask prompt.
        var previous = try predictor.predict([prompt])
        let b = prompt.box!
        let click = ObjectPrompt.Point(x: (b.x0 + b.x1) / 2, y: (b.y0 + b.y1) / 2, label: 1)
        let clickTimes = TimingSummary(BenchClock.samples(warmup: 1, runs: runs * 4) {
            let p = ObjectPrompt(box: b, points: [click])
            previous = try! predictor.predict([p], previous: [previous[0].lowResLogits])
        })
        results["click_seconds_median"] = clickTimes.median
        if !json {
            print("\(model.name): \(display.width)x\(display.height) image, one box: \(format(firstBox.median, 3)) s (min \(format(firstBox.min, 3)), max \(format(firstBox.max, 3))); per extra click (embedding cached): \(format(clickTimes.median * 1000, 1)) ms")
        }
        if FileManager.default.fileExists(atPath: volume) {
            let v = try SegmentationInput.load(URL(fileURLWithPath: volume))
            if let vol = v.volume {
                let stacked = try Self.repeated(vol, toSlices: slices)
                let prop = VolumePropagation(volume: stacked, display: v.display, options: PropagationOptions(axis: .z))
                let t = BenchClock.seconds {
                    _ = try! prop.run(keySlice: slices / 2, objects: [prompt], segmenter: { img, p in
                        try predictor.setImage(img)
                        return try predictor.predict([p])[0].mask
                    })
                }
                results["volume_seconds"] = t
                results["volume_slices"] = Double(slices)
                if !json { print("\(slices)-slice volume (\(vol.nx)x\(vol.ny)), box on the middle slice: \(format(t, 1)) s (\(format(t / Double(slices), 3)) s per slice)") }
            }
        }
        results["peak_rss_mb"] = peakResidentMiB()
        if json {
            let data = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("peak RSS \(format(peakResidentMiB(), 0)) MiB")
        }
    }

    /// The volume repeated along z until it has `n` slices (same geometry per slice).
    static func repeated(_ v: Volume, toSlices n: Int) throws -> Volume {
        let plane = v.nx * v.ny
        var voxels = [Float](repeating: 0, count: plane * n)
        for z in 0..<n {
            let src = (z % v.nz) * plane
            for i in 0..<plane { voxels[z * plane + i] = v.voxels[src + i] }
        }
        return try Volume(nx: v.nx, ny: v.ny, nz: n, voxels: voxels, spacing: v.spacing, affine: v.affine)
    }
}
