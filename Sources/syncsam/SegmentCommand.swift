import ArgumentParser
import Foundation
import MedImage
import SyncSAM
import SyncTensor

/// `syncsam segment INPUT (--box ... | --point ... | --prompts FILE) --out DIR`: the product's main job.
/// 2-D images give mask PNG(s), overlay and summary; volumes and DICOM series are segmented slice by slice
/// from a box on a key slice and give `labels.nii.gz` in the source geometry.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment an image, volume or DICOM series from boxes and clicks.",
        discussion: """
        Inputs: PNG, JPEG, NIfTI (.nii, .nii.gz), DICOM (a file, or a folder holding one series), NRRD.
        Coordinates are pixels of the original image (x = column, y = row); for volumes, of the key slice.
        Without --checkpoint the default model (LiteMedSAM) is used.
        """)

    @Argument(help: "Input file or DICOM series folder (or a folder of images with --batch).") var input: String
    @Option(help: "Checkpoint (.pth or .safetensors) of a SAM, SyncSAM or LiteMedSAM model.") var checkpoint: String?
    @Option(help: "Model config: a preset name (\(ModelFactory.presetNames.joined(separator: ", "))) or a JSON file.")
    var config: String?
    @Option(name: .customLong("box"), help: "Box x0,y0,x1,y1 (repeat for several objects).") var boxes: [String] = []
    @Option(name: .customLong("point"), help: "Click x,y[,label] with label 1 (foreground, default) or 0.") var points: [String] = []
    @Option(help: "JSON file with several objects: {\"objects\": [{\"label\": 1, \"box\": [x0,y0,x1,y1], \"points\": [[x,y,1]]}]}.")
    var prompts: String?
    @Option(help: "Key slice index of a volume (default: the middle slice).") var slice: Int?
    @Option(help: "Slice axis of a volume: x, y or z.") var axis: String?
    @Option(help: "Intensity window: soft, lung, bone, brain or LEVEL,WIDTH (default: CT soft tissue, otherwise percentiles).")
    var window: String?
    @Flag(help: "Segment every image of the INPUT folder with the same prompts; outputs in OUT/<name>/.") var batch = false
    @Option(help: "Output folder.") var out: String

    func run() throws {
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        // Everything that can be checked before loading the model is checked first.
        let windowValue: IntensityWindow?
        do { windowValue = try window.map { try DisplayIntensity.parseWindow($0) } } catch { fail("\(error)") }
        let axisValue: VolumeAxis?
        if let axis { guard let a = VolumeAxis(axisName: axis) else { fail("--axis must be x, y or z, not '\(axis)'") }; axisValue = a }
        else { axisValue = nil }
        let request: SegmentationPrompts
        do {
            if let prompts {
                if !boxes.isEmpty || !points.isEmpty { fail("use either --prompts or --box/--point, not both") }
                var p = try SegmentationPrompts.load(file: URL(fileURLWithPath: prompts))
                if let slice { p.slice = slice }
                if let axisValue { p.axis = axisValue }
                request = p
            } else {
                request = try SegmentationPrompts.fromArguments(boxes: boxes, points: points, slice: slice, axis: axisValue)
            }
        } catch { fail("\(error)") }

        let inputs: [(url: URL, outDir: URL)]
        if batch {
            do {
                let items = try SegmentationBatch.items(in: URL(fileURLWithPath: input))
                if items.isEmpty { fail("\(input): no supported images found") }
                inputs = items.map { ($0.url, $0.outputDirectory(in: URL(fileURLWithPath: out))) }
            } catch { fail("\(error)") }
        } else {
            inputs = [(URL(fileURLWithPath: input), URL(fileURLWithPath: out))]
        }
        // Load and validate every input before the model, so bad input fails fast and writes nothing.
        var loaded: [(SegmentationInput, URL)] = []
        for (url, dir) in inputs {
            do {
                let s = try SegmentationInput.load(url, window: windowValue)
                _ = try request.resolve(for: s)
                loaded.append((s, dir))
            } catch { fail("\(error)") }
        }
        let model: LoadedModel
        do {
            if let checkpoint {
                guard FileManager.default.fileExists(atPath: checkpoint) else { fail("\(checkpoint): checkpoint not found") }
                model = try ModelFactory.load(checkpoint: checkpoint, config: config)
            } else {
                model = try ModelFactory.loadDefault()
            }
        } catch { fail("\(error)") }
        let loadSeconds = elapsed()
        let predictor = model.predictor()
        for (s, dir) in loaded {
            do {
                try segment(s, predictor: predictor, model: model, request: request, outDir: dir, loadSeconds: loadSeconds)
            } catch { fail("\(error)") }
        }
    }

    private func segment(_ input: SegmentationInput, predictor: Predictor, model: LoadedModel,
                         request: SegmentationPrompts, outDir: URL, loadSeconds: Double) throws {
        let writer = SegmentationOutputWriter(directory: outDir)
        let t0 = DispatchTime.now().uptimeNanoseconds
        func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        if let volume = input.volume {
            let (axis, keySlice) = try request.resolve(for: input)
            let key = keySlice ?? input.sliceCount(axis) / 2
            let propagation = VolumePropagation(volume: volume, display: input.display, options: PropagationOptions(axis: axis))
            var lastImage: Image2D? = nil
            let result = try propagation.run(keySlice: key, objects: request.objects, segmenter: { image, prompt in
                if lastImage != image { try predictor.setImage(image); lastImage = image }
                return try predictor.predict([prompt])[0].mask
            }, progress: { p in
                FileHandle.standardError.write(Data("\r\(p.bar()) slice \(p.slice)  \(p.processed) done".utf8))
            })
            FileHandle.standardError.write(Data("\n".utf8))
            let keyDisplay = try input.displaySlice(axis, index: key)
            let info = SegmentationRunInfo(input: input, modelName: model.name,
                                           timings: ["model_load_s": loadSeconds, "segment_s": since(t0)])
            try writer.writeVolume(result, keySliceDisplay: keyDisplay, prompts: request.objects,
                                   qformCode: input.qformCode, sformCode: input.sformCode, info: info)
            print("\(input.url.lastPathComponent): \(result.objects.count) object(s) over slices \(result.objects.map { $0.sliceRange.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "none" }.joined(separator: ", ")) -> \(outDir.path)/labels.nii.gz")
            return
        }
        let display = try input.displayImage()
        try request.validate(width: display.width, height: display.height)
        try predictor.setImage(display)
        let tEmbed = since(t0)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let predictions = try predictor.predict(request.objects)
        let info = SegmentationRunInfo(input: input, modelName: model.name,
                                       timings: ["model_load_s": loadSeconds, "embed_s": tEmbed, "decode_s": since(t1)])
        try writer.writeImage(display: display, predictions: predictions, prompts: request.objects,
                              spacing: input.pixelSpacing, info: info)
        let areas = predictions.map { "label \($0.label): \($0.mask.area) px" }.joined(separator: ", ")
        print("\(input.url.lastPathComponent): \(areas) -> \(outDir.path)")
    }
}
