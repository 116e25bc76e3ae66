import Foundation
import MedImage
import XCTest

@testable import SyncSAM

final class SegmentationPromptTests: XCTestCase {
    private func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testBoxAndPointFlags() throws {
        XCTAssertEqual(try SegmentationPrompts.parseBox("10,20.5, 30 ,40"),
                       ObjectPrompt.Box(x0: 10, y0: 20.5, x1: 30, y1: 40))
        XCTAssertEqual(try SegmentationPrompts.parsePoint("5,6"), ObjectPrompt.Point(x: 5, y: 6, label: 1))
        XCTAssertEqual(try SegmentationPrompts.parsePoint("5,6,0"), ObjectPrompt.Point(x: 5, y: 6, label: 0))

        let one = try SegmentationPrompts.fromArguments(boxes: ["10,20,30,40"], points: ["15,25", "1,1,0"])
        XCTAssertEqual(one.objects, [ObjectPrompt(box: .init(x0: 10, y0: 20, x1: 30, y1: 40),
                                                  points: [.init(x: 15, y: 25, label: 1), .init(x: 1, y: 1, label: 0)],
                                                  label: 1)])
        let clicks = try SegmentationPrompts.fromArguments(boxes: [], points: ["3,4"])
        XCTAssertEqual(clicks.objects, [ObjectPrompt(points: [.init(x: 3, y: 4)], label: 1)])
        let two = try SegmentationPrompts.fromArguments(boxes: ["0,0,5,5", "6,6,9,9"], points: [], slice: 3, axis: .y)
        XCTAssertEqual(two.objects.map(\.label), [1, 2])
        XCTAssertEqual(two.objects[1].box, ObjectPrompt.Box(x0: 6, y0: 6, x1: 9, y1: 9))
        XCTAssertEqual(two.slice, 3)
        XCTAssertEqual(two.axis, .y)
    }

    func testMalformedFlagsGiveExactMessages() {
        XCTAssertEqual(message { _ = try SegmentationPrompts.parseBox("10,20,abc,40") },
                       "--box \"10,20,abc,40\": \"abc\" is not a number (expected x0,y0,x1,y1)")
        XCTAssertEqual(message { _ = try SegmentationPrompts.parseBox("10,20,30") },
                       "--box \"10,20,30\": expected x0,y0,x1,y1, found 3 numbers")
        XCTAssertEqual(message { _ = try SegmentationPrompts.parseBox("10,,30,40") },
                       "--box \"10,,30,40\": \"\" is not a number (expected x0,y0,x1,y1)")
        XCTAssertEqual(message { _ = try SegmentationPrompts.parseBox("10,20,inf,40") },
                       "--box \"10,20,inf,40\": \"inf\" is not a number (expected x0,y0,x1,y1)")
        XCTAssertEqual(message { _ = try SegmentationPrompts.parsePoint("5") },
                       "--point \"5\": expected x,y or x,y,label, found 1 number")
        XCTAssertEqual(message { _ = try SegmentationPrompts.parsePoint("5,6,2") },
                       "point label 2 is not 0 (background) or 1 (foreground)")
        XCTAssertEqual(message { _ = try SegmentationPrompts.parsePoint("5,6,0.5") },
                       "--point \"5,6,0.5\": point label 0.5 is not 0 (background) or 1 (foreground)")
        XCTAssertEqual(message { _ = try SegmentationPrompts.fromArguments(boxes: [], points: []) },
                       "no prompt given: use --box x0,y0,x1,y1, --point x,y[,label] or --prompts FILE")
        XCTAssertEqual(message { _ = try SegmentationPrompts.fromArguments(boxes: ["0,0,5,5", "6,6,9,9"], points: ["1,1"]) },
                       "--point cannot be combined with several --box (which object would it refine?); use --prompts FILE")
    }

    func testValidationAgainstTheImage() {
        func check(_ boxes: [String], _ points: [String] = []) -> String {
            message { try SegmentationPrompts.fromArguments(boxes: boxes, points: points).validate(width: 100, height: 80) }
        }
        XCTAssertEqual(check(["0,0,100,80"]), "no error")
        XCTAssertEqual(check(["10,10,120,50"]), "box 10.0,10.0,120.0,50.0 lies outside the 100x80 image")
        XCTAssertEqual(check(["-1,10,20,50"]), "box -1.0,10.0,20.0,50.0 lies outside the 100x80 image")
        XCTAssertEqual(check(["10,10,10,50"]), "box 10.0,10.0,10.0,50.0 has zero area (need x0 < x1 and y0 < y1)")
        XCTAssertEqual(check(["30,10,20,50"]), "box 30.0,10.0,20.0,50.0 has zero area (need x0 < x1 and y0 < y1)")
        XCTAssertEqual(check([], ["100,5"]), "point (100.0, 5.0) lies outside the 100x80 image")
        XCTAssertEqual(check(["0,0,5,5", "6,6,9,90"]), "object 2: box 6.0,6.0,9.0,90.0 lies outside the 100x80 image")
    }

    func testPromptFileSchema() throws {
        let json = """
            {"objects": [{"box": [10, 20, 30, 40], "points": [[15, 25, 1], [12, 22, 0], [16, 26]]},
                         {"label": 1, "points": [[50, 60]]},
                         {"box": [1, 2, 3, 4]}],
             "slice": 7, "axis": "x"}
            """
        let prompts = try SegmentationPrompts.decode(Data(json.utf8), name: "prompts.json")
        XCTAssertEqual(prompts.slice, 7)
        XCTAssertEqual(prompts.axis, .x)
        // Explicit label 1 is kept; the others take the lowest unused labels in order.
        XCTAssertEqual(prompts.objects.map(\.label), [2, 1, 3])
        XCTAssertEqual(prompts.objects[0].box, ObjectPrompt.Box(x0: 10, y0: 20, x1: 30, y1: 40))
        XCTAssertEqual(prompts.objects[0].points, [.init(x: 15, y: 25, label: 1), .init(x: 12, y: 22, label: 0),
                                                   .init(x: 16, y: 26, label: 1)])
        XCTAssertNil(prompts.objects[1].box)

        let dir = try SegmentationTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("p.json")
        try Data(#"{"objects": [{"box": [0, 0, 4, 4]}]}"#.utf8).write(to: url)
        let loaded = try SegmentationPrompts.load(file: url)
        XCTAssertEqual(loaded.objects, [ObjectPrompt(box: .init(x0: 0, y0: 0, x1: 4, y1: 4), label: 1)])
        XCTAssertNil(loaded.slice)
        XCTAssertEqual(message { _ = try SegmentationPrompts.load(file: dir.appendingPathComponent("none.json")) },
                       "none.json: no such file")
    }

    func testPromptFileErrors() {
        func check(_ json: String) -> String {
            message { _ = try SegmentationPrompts.decode(Data(json.utf8), name: "prompts.json") }
        }
        XCTAssertEqual(check("[1, 2]"), "prompts.json: not a JSON object (expected {\"objects\": [...]})")
        XCTAssertEqual(check("{\"objects\": [}"), "prompts.json: not a JSON object (expected {\"objects\": [...]})")
        XCTAssertEqual(check(#"{"objects": []}"#), "prompts.json: \"objects\" must be a non-empty list")
        XCTAssertEqual(check(#"{"object": []}"#), "prompts.json: unknown key \"object\" (expected objects, slice, axis)")
        XCTAssertEqual(check(#"{"objects": [{"boxes": [1, 2, 3, 4]}]}"#),
                       "prompts.json: unknown key \"boxes\" in objects[0] (expected label, box, points)")
        XCTAssertEqual(check(#"{"objects": [{"box": [1, 2, 3, 4]}, {"box": [1, 2, 3]}]}"#),
                       "prompts.json: objects[1].box must be 4 numbers [x0, y0, x1, y1]")
        XCTAssertEqual(check(#"{"objects": [{"box": [1, "2", 3, 4]}]}"#),
                       "prompts.json: objects[0].box must be 4 numbers [x0, y0, x1, y1]")
        XCTAssertEqual(check(#"{"objects": [{"points": [[1, 2, 2]]}]}"#),
                       "prompts.json: objects[0].points[0]: point label 2 is not 0 (background) or 1 (foreground)")
        XCTAssertEqual(check(#"{"objects": [{"points": [[1]]}]}"#),
                       "prompts.json: objects[0].points[0] must be [x, y] or [x, y, label]")
        XCTAssertEqual(check(#"{"objects": [{"label": 1.5, "points": [[1, 2]]}]}"#),
                       "prompts.json: objects[0].label must be an integer")
        XCTAssertEqual(check(#"{"objects": [{"label": 0, "points": [[1, 2]]}]}"#),
                       "prompts.json: object 1: label 0 is outside 1...255")
        XCTAssertEqual(check(#"{"objects": [{"label": 256, "points": [[1, 2]]}]}"#),
                       "prompts.json: object 1: label 256 is outside 1...255")
        XCTAssertEqual(check(#"{"objects": [{"label": 2, "box": [0, 0, 1, 1]}, {"box": [0, 0, 1, 1]}, {"label": 2, "box": [0, 0, 1, 1]}]}"#),
                       "prompts.json: label 2 is used by objects 1 and 3; labels must be distinct")
        XCTAssertEqual(check(#"{"objects": [{"box": [0, 0, 1, 1]}], "slice": -1}"#),
                       "prompts.json: \"slice\" must be a non-negative integer")
        XCTAssertEqual(check(#"{"objects": [{"box": [0, 0, 1, 1]}], "axis": "w"}"#),
                       "prompts.json: \"axis\" must be \"x\", \"y\" or \"z\"")
    }

    func testResolvingForAVolumeAndAnImage() throws {
        let volume = try Volume(nx: 40, ny: 30, nz: 20, voxels: [Float](repeating: 0, count: 40 * 30 * 20),
                                spacing: SIMD3(1, 1, 1), affine: .identity)
        let input = SegmentationInput(url: URL(fileURLWithPath: "/v.nii.gz"), format: .nifti, modality: nil,
                                      content: .volume(volume), display: .asIs)
        var prompts = SegmentationPrompts(objects: [ObjectPrompt(box: .init(x0: 0, y0: 0, x1: 30, y1: 20), label: 1)])
        let defaults = try prompts.resolve(for: input)
        XCTAssertEqual(defaults.axis, .z)
        XCTAssertEqual(defaults.slice, 10)  // middle slice
        prompts.axis = .x  // slices 30 wide, 20 high
        XCTAssertEqual(try prompts.resolve(for: input).slice, 20)
        prompts.slice = 40
        XCTAssertEqual(message { _ = try prompts.resolve(for: input) }, "slice 40 is outside the volume (0...39 along x)")
        prompts.slice = 3
        prompts.objects[0].box = ObjectPrompt.Box(x0: 0, y0: 0, x1: 30, y1: 25)
        XCTAssertEqual(message { _ = try prompts.resolve(for: input) }, "box 0.0,0.0,30.0,25.0 lies outside the 30x20 image")

        let image = SegmentationInput(url: URL(fileURLWithPath: "/i.png"), format: .png, modality: nil,
                                      content: .image(try Image2D(zeros: 50, height: 40)), display: .asIs)
        XCTAssertEqual(message { _ = try prompts.resolve(for: image) }, "\"slice\" and \"axis\" apply to volumes only")
        prompts.slice = nil
        prompts.axis = nil
        XCTAssertNil(try prompts.resolve(for: image).slice)
    }
}
