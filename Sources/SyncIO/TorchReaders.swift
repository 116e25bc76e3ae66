// PyTorch checkpoint files: the zip format of torch.save and the legacy pre-zip format.

/// Readers of the two PyTorch serialisation formats, producing the decoded pickle with tensors attached.
enum TorchReaders {
    /// Magic number of the legacy format (0x1950a86a20f9469cfc6c), little-endian, as pickled by LONG1.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// True when `buffer` starts with the pickled legacy magic number (PROTO n, LONG1 10 bytes, STOP).
    static func isLegacy(_ buffer: ByteBuffer) -> Bool {
        guard buffer.count >= 15 else { return false }
        let bytes = buffer.slice(0, 15)
        return bytes[0] == 0x80 && bytes[2] == 0x8A && bytes[3] == 0x0A && Array(bytes[4..<14]) == legacyMagic && bytes[14] == 0x2E
    }

    /// Runs the unpickler over `[start, end)` and freezes the result with `resolve`, always dismantling the
    /// intermediate graph. Returns the value and the offset just past STOP.
    private static func unpickle(_ buffer: ByteBuffer, start: Int, end: Int, path: String,
                                 resolve: ((inout Unpickler) throws -> (StorageRef) throws -> StorageBytes)? = nil)
        throws -> (PickleValue, end: Int)
    {
        var unpickler = Unpickler(buffer: buffer, start: start, end: end, path: path)
        defer { unpickler.dismantle() }
        let root = try unpickler.load()
        let end = unpickler.reader.position
        let resolver = try resolve?(&unpickler) ?? { storage in throw CheckpointError.missingStorage(path: path, key: storage.key) }
        var freezer = PickleFreezer(path: path, resolve: resolver)
        return (try freezer.freeze(root), end)
    }

    /// Decodes one self-contained pickle (no persistent ids) held in `bytes`.
    static func decodePickle(_ bytes: [UInt8], path: String = "<memory>") throws -> PickleValue {
        let buffer = ByteBuffer.copying(bytes)
        return try unpickle(buffer, start: 0, end: buffer.count, path: path).0
    }

    /// Reads the zip format: `<archive>/data.pkl` and storages `<archive>/data/<key>` (stored entries are used
    /// in place in the mapping).
    static func readZip(_ buffer: ByteBuffer, path: String) throws -> PickleValue {
        let zip = try ZipArchive(buffer: buffer, path: path)
        guard let pickle = zip.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw CheckpointError.badHeader(path: path, reason: "zip archive has no data.pkl (not a torch.save checkpoint)")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        if let order = zip.entry(named: prefix + "byteorder") {
            let bytes = try zip.contents(of: order)
            let text = String(decoding: bytes.buffer.slice(bytes.start, bytes.count), as: UTF8.self)
            if text.hasPrefix("big") { throw CheckpointError.unsupported(path: path, feature: "big-endian checkpoint") }
        }
        let pickleBytes = try zip.contents(of: pickle)
        final class Cache { var storages: [String: StorageBytes] = [:] }
        let cache = Cache()
        return try unpickle(pickleBytes.buffer, start: pickleBytes.start, end: pickleBytes.start + pickleBytes.count,
                            path: path) { _ in
            { storage in
                if let cached = cache.storages[storage.key] { return cached }
                guard let entry = zip.entry(named: prefix + "data/" + storage.key) else {
                    throw CheckpointError.missingStorage(path: path, key: storage.key)
                }
                let bytes = try zip.contents(of: entry)
                cache.storages[storage.key] = bytes
                return bytes
            }
        }.0
    }

    /// Reads the legacy format: magic number, protocol version and sys_info pickles, the main pickle, the list of
    /// storage keys, then each storage as an 8-byte element count followed by its raw elements.
    static func readLegacy(_ buffer: ByteBuffer, path: String) throws -> PickleValue {
        let (version, afterVersion) = try unpickle(buffer, start: 15, end: buffer.count, path: path)
        guard case .int(1001) = version else {
            throw CheckpointError.badHeader(path: path, reason: "legacy protocol version is not 1001")
        }
        let (sysInfo, afterInfo) = try unpickle(buffer, start: afterVersion, end: buffer.count, path: path)
        if case .bool(false) = sysInfo["little_endian"] ?? .bool(true) {
            throw CheckpointError.unsupported(path: path, feature: "big-endian legacy checkpoint")
        }
        return try unpickle(buffer, start: afterInfo, end: buffer.count, path: path) { unpickler in
            let types = unpickler.storageTypes
            let (keysValue, afterKeys) = try unpickle(buffer, start: unpickler.reader.position, end: buffer.count, path: path)
            guard case let .list(keyItems) = keysValue else {
                throw CheckpointError.badHeader(path: path, reason: "legacy storage key list is not a list")
            }
            var reader = ByteReader(buffer, start: afterKeys, path: path)
            var storages: [String: StorageBytes] = [:]
            for item in keyItems {
                guard let key = item.keyText else { throw CheckpointError.badHeader(path: path, reason: "legacy storage key is not a string") }
                guard let dtype = types[key] else {
                    throw CheckpointError.badHeader(path: path, reason: "legacy storage '\(key)' is not used by any tensor")
                }
                let count = try reader.u64("element count of storage '\(key)'")
                let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(dtype.itemSize))
                let length = try reader.requireLength(overflow ? .max : bytes, "storage '\(key)' (\(count) elements)")
                storages[key] = StorageBytes(buffer: buffer, start: reader.position, count: length)
                reader.position += length
            }
            return { storage in
                guard let bytes = storages[storage.key] else { throw CheckpointError.missingStorage(path: path, key: storage.key) }
                return bytes
            }
        }.0
    }
}
