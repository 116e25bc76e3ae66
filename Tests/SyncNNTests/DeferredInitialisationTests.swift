import Foundation
import XCTest
import SyncIO
import SyncNN
import SyncTensor

/// Deferred initialisation (`ParameterStore.deferringInitialisation`), the direct copy path of
/// `ParameterStore.load`, bulk random fills and calloc-backed storage.
final class DeferredInitialisationTests: XCTestCase {
    /// A small model touching every initialiser: uniform (Linear, Conv2d), normal (Embedding), ones/zeros
    /// (LayerNorm, BatchNorm buffers).
    private final class Toy {
        let store: ParameterStore
        init(seed: UInt64) {
            store = ParameterStore(seed: seed)
            let root = store.root
            _ = Linear(root["first"], inFeatures: 6, outFeatures: 5)
            _ = Embedding(root["embed"], count: 4, dim: 3)
            _ = LayerNorm(root["norm"], dim: 5)
            _ = Conv2d(root["conv"], inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1)
            _ = BatchNorm2d(root["bn"], channels: 3)
            _ = Linear(root["last"], inFeatures: 5, outFeatures: 2)
        }
    }

    private func values(_ store: ParameterStore) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: store.entries.map { ($0.name, $0.tensor.toArray()) })
    }

    private func deferredToy(seed: UInt64) -> Toy {
        ParameterStore.deferringInitialisation { Toy(seed: seed) }
    }

    /// Distinct non-random values for `names` of `store`, as a checkpoint would hold.
    private func checkpoint(_ store: ParameterStore, _ names: [String]) -> InMemoryTensors {
        InMemoryTensors(names.enumerated().map { k, name in
            let shape = store[name]!.shape
            let count = shape.reduce(1, *)
            return (name, Tensor(shape: shape, values: (0..<count).map { Float(k * 100 + $0) + 0.5 }))
        })
    }

    func testDeferredStoreHoldsZerosUntilInitialisedThenMatchesAnEagerBuild() {
        let eager = Toy(seed: 7)
        let deferred = deferredToy(seed: 7)
        XCTAssertTrue(deferred.store.isDeferringInitialisation)
        XCTAssertFalse(eager.store.isDeferringInitialisation)
        XCTAssertEqual(deferred.store.entries.map(\.name), eager.store.entries.map(\.name))
        XCTAssertTrue(deferred.store.entries.allSatisfy { $0.tensor.toArray().allSatisfy { $0 == 0 } })
        XCTAssertFalse(ParameterStore.defersInitialisation, "the mode is scoped to the closure")

        deferred.store.initialisePendingTensors()
        XCTAssertFalse(deferred.store.isDeferringInitialisation)
        XCTAssertEqual(values(deferred.store), values(eager.store))
        XCTAssertEqual(deferred.store.rng, eager.store.rng)
        XCTAssertEqual(values(deferred.store)["norm.weight"], [1, 1, 1, 1, 1])
        XCTAssertEqual(values(deferred.store)["bn.running_var"], [1, 1, 1])
    }

    func testPartialLoadInitialisesExactlyWhatTheCheckpointLacks() throws {
        let eager = Toy(seed: 11)
        let deferred = deferredToy(seed: 11)
        // Provided: the first Linear and the Embedding (random draws to skip), the LayerNorm weight (ones).
        let provided = ["first.weight", "first.bias", "embed.weight", "norm.weight"]
        let source = checkpoint(deferred.store, provided)
        let report = try deferred.store.load(from: source, options: LoadOptions(allowMissing: true))
        XCTAssertEqual(Set(report.loaded), Set(provided))
        XCTAssertFalse(deferred.store.isDeferringInitialisation)
        try eager.store.load(from: source, options: LoadOptions(allowMissing: true))
        XCTAssertEqual(values(deferred.store), values(eager.store), "missing tensors hold an eager build's values")
        XCTAssertEqual(values(deferred.store)["first.bias"], [0.5, 1.5, 2.5, 3.5, 4.5].map { $0 + 100 })

        // The generator continues as after an eager build: layers added later get the same values.
        let lateDeferred = Linear(deferred.store.root["late"], inFeatures: 4, outFeatures: 3)
        let lateEager = Linear(eager.store.root["late"], inFeatures: 4, outFeatures: 3)
        XCTAssertEqual(lateDeferred.weight.toArray(), lateEager.weight.toArray())
        XCTAssertNotEqual(lateDeferred.weight.toArray(), [Float](repeating: 0, count: 12), "created eagerly after the load")
    }

    func testFullLoadDrawsNothingAndLeavesTheGeneratorWhereAnEagerBuildWould() throws {
        let eager = Toy(seed: 3)
        let deferred = deferredToy(seed: 3)
        let source = checkpoint(deferred.store, deferred.store.entries.map(\.name))
        try deferred.store.load(from: source)
        try eager.store.load(from: source)
        XCTAssertEqual(values(deferred.store), values(eager.store))
        XCTAssertEqual(deferred.store.rng, eager.store.rng)
    }

    func testFailedStrictLoadLeavesTheModelAsAnEagerBuild() {
        let eager = Toy(seed: 5)
        let deferred = deferredToy(seed: 5)
        var bad = checkpoint(deferred.store, ["first.weight", "last.bias"])
        bad.tensors[1].1 = Tensor(zeros: [7])  // wrong shape for last.bias
        XCTAssertThrowsError(try deferred.store.load(from: bad)) { error in
            guard case WeightLoadError.shapeMismatch(let key, let expected, let found) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(key, "last.bias")
            XCTAssertEqual(expected, [2])
            XCTAssertEqual(found, [7])
        }
        XCTAssertEqual(values(deferred.store), values(eager.store), "nothing copied, everything initialised")
    }

    func testSkippedMismatchGetsItsInitialValue() throws {
        let eager = Toy(seed: 9)
        let deferred = deferredToy(seed: 9)
        var source = checkpoint(deferred.store, ["conv.weight", "conv.bias"])
        source.tensors[0].1 = Tensor(zeros: [3, 2, 1, 1])
        let report = try deferred.store.load(from: source, options: LoadOptions(allowMissing: true, skipMismatched: true))
        XCTAssertEqual(report.loaded, ["conv.bias"])
        XCTAssertEqual(report.mismatched.map(\.key), ["conv.weight"])
        XCTAssertEqual(deferred.store["conv.weight"]!.toArray(), eager.store["conv.weight"]!.toArray())
        XCTAssertEqual(deferred.store["conv.bias"]!.toArray(), [0.5, 1.5, 2.5].map { $0 + 100 })
    }

    /// A source implementing only `floatValues`: loads through the protocol's default `copyFloatValues`.
    private struct ArraySource: TensorSource {
        let items: [String: ([Int], [Float])]
        var tensorNames: [String] { items.keys.sorted() }
        func shape(of name: String) -> [Int]? { items[name]?.0 }
        func floatValues(of name: String) throws -> [Float] {
            guard let v = items[name]?.1 else { throw WeightLoadError.missingKeys([name]) }
            return v
        }
    }

    func testDefaultCopyPathAndItsCountCheck() throws {
        let store = ParameterStore()
        _ = Linear(store.root["fc"], inFeatures: 2, outFeatures: 2)
        try store.load(from: ArraySource(items: ["fc.weight": ([2, 2], [1, 2, 3, 4]), "fc.bias": ([2], [-1, -2])]))
        XCTAssertEqual(store["fc.weight"]!.toArray(), [1, 2, 3, 4])
        XCTAssertEqual(store["fc.bias"]!.toArray(), [-1, -2])

        let lying = ArraySource(items: ["x": ([3], [1, 2])])  // declares 3 values, yields 2
        var destination = [Float](repeating: 9, count: 3)
        XCTAssertThrowsError(try destination.withUnsafeMutableBufferPointer { try lying.copyFloatValues(of: "x", into: $0) })
        XCTAssertEqual(destination, [9, 9, 9])
    }

    func testCheckpointFileLoadsStraightIntoParametersWithConversion() throws {
        let directory = NSTemporaryDirectory() + "syncnn-direct-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/toy.safetensors"
        let eager = Toy(seed: 21)
        try eager.store.save(safetensors: path)
        // A float16 copy of one tensor: 1.0, -2.0, 0.5, 0.25, 3.0 as halves.
        let halves: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0x00, 0x34, 0x00, 0x42]
        var map = try Safetensors.read(path: path).tensors
        map = TensorMap(map.entries.map { e in
            e.name == "first.bias" ? (name: e.name, tensor: StoredTensor(dtype: .float16, shape: [5], bytes: halves)) : e
        })

        let fromFile = ParameterStore.deferringInitialisation { Toy(seed: 99) }
        try fromFile.store.load(from: map)
        var expected = values(eager.store)
        expected["first.bias"] = [1, -2, 0.5, 0.25, 3]
        XCTAssertEqual(values(fromFile.store), expected)
        XCTAssertEqual(map["first.weight"]!.floats(), expected["first.weight"], "the map stays readable after loading")
    }

    func testBulkRandomFillsMatchPerCallDraws() {
        var bulk = SeededRandom(seed: 42), single = bulk
        var out = [Float](repeating: 0, count: 1001)
        out.withUnsafeMutableBufferPointer { bulk.fillUniform($0.baseAddress!, count: $0.count, low: -0.3, high: 0.7) }
        XCTAssertEqual(out, (0..<1001).map { _ in -0.3 + (0.7 - -0.3) * single.uniform() })
        XCTAssertEqual(bulk, single)

        out.withUnsafeMutableBufferPointer { bulk.fillNormal($0.baseAddress!, count: $0.count, mean: 1, std: 0.5) }
        XCTAssertEqual(out, (0..<1001).map { _ in 1 + 0.5 * single.normal() })
        XCTAssertEqual(bulk, single)

        bulk.skip(77)
        for _ in 0..<77 { _ = single.next() }
        XCTAssertEqual(bulk, single)
        XCTAssertEqual(bulk.next(), single.next())
    }

    func testStorageIsAlignedAndZeroedOnRequest() {
        for count in [0, 1, 17, 4096, 300_000] {
            let zeroed = TensorStorage(count: count)
            XCTAssertEqual(Int(bitPattern: zeroed.base) % 64, 0, "zeroed storage of \(count)")
            XCTAssertTrue(UnsafeBufferPointer(start: zeroed.base, count: count).allSatisfy { $0 == 0 })
            let raw = TensorStorage(count: count, zeroed: false)
            XCTAssertEqual(Int(bitPattern: raw.base) % 64, 0, "unzeroed storage of \(count)")
            raw.base.update(repeating: 2, count: max(count, 1))
        }
    }

    #if os(Linux)
    func testDeferredConstructionLeavesThePagesUntouched() throws {
        // 1 GiB of weights that are never initialised: only address space, unless something writes them.
        let before = residentMiB()
        let weight = ParameterStore.deferringInitialisation { () -> Tensor in
            Linear(ParameterStore().root["big"], inFeatures: 1024, outFeatures: 262_144, bias: false).weight
        }
        // calloc serves a block this large from fresh kernel pages (glibc reuses a freed heap block of the size,
        // memset and resident, only in a process that held that much before: then there is nothing to observe).
        let resident = residentFraction(weight)
        let grown = residentMiB() - before
        let sampled = stride(from: 0, to: weight.count, by: 4099).map { weight.data[$0] }
        XCTAssertEqual(sampled, [Float](repeating: 0, count: sampled.count), "deferred weights hold zeros")
        if resident > 0.5 { throw XCTSkip("the allocator reused resident heap memory for the weights") }
        XCTAssertLessThan(resident, 0.01, "no page of the deferred weights was written")
        XCTAssertLessThan(grown, 16)
    }

    private func residentMiB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }.first ?? 0) / 1024
    }

    /// Fraction of the memory pages under `tensor` that are resident (`mincore`).
    private func residentFraction(_ tensor: Tensor) -> Double {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: tensor.data) / page * page
        let length = Int(bitPattern: tensor.data + tensor.count) - start
        var flags = [UInt8](repeating: 0, count: (length + page - 1) / page)
        guard mincore(UnsafeMutableRawPointer(bitPattern: start), length, &flags) == 0 else { return -1 }
        return Double(flags.filter { $0 & 1 != 0 }.count) / Double(flags.count)
    }
    #endif
}
