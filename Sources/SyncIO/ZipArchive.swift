// Read-only ZIP archives over a mapped file: central directory (ZIP64 included), stored and deflated members.
import CZlib

/// One member of a ZIP archive, from the central directory.
struct ZipEntry {
    let name: String
    let method: UInt16
    let flags: UInt16
    let crc: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
}

/// A ZIP archive read from a byte buffer (normally a file mapping). Stored members are returned without copying;
/// deflated members are inflated with zlib into owned buffers.
struct ZipArchive {
    let buffer: ByteBuffer
    let path: String
    /// Members in central-directory order.
    let entries: [ZipEntry]
    private let index: [String: Int]

    init(buffer: ByteBuffer, path: String) throws {
        self.buffer = buffer
        self.path = path
        let (directoryOffset, directorySize, entryCount) = try ZipArchive.locateDirectory(buffer, path: path)
        var reader = ByteReader(buffer, start: directoryOffset, end: directoryOffset + directorySize, path: path)
        var entries: [ZipEntry] = []
        entries.reserveCapacity(min(entryCount, directorySize / 46))
        for _ in 0..<entryCount {
            entries.append(try ZipArchive.readCentralEntry(&reader))
        }
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() where index[entry.name] == nil { index[entry.name] = i }
        self.entries = entries
        self.index = index
    }

    /// The member called `name`, if any.
    func entry(named name: String) -> ZipEntry? {
        index[name].map { entries[$0] }
    }

    /// Finds the central directory through the end-of-central-directory record (and its ZIP64 variant).
    private static func locateDirectory(_ buffer: ByteBuffer, path: String) throws -> (offset: Int, size: Int, count: Int) {
        let size = buffer.count
        guard size >= 22 else { throw CheckpointError.truncated(path: path, what: "zip end-of-central-directory record not found") }
        var position = size - 22
        let lowest = max(0, size - 22 - 65_535)
        var found = -1
        while position >= lowest {
            if UInt32(littleEndian: buffer.base.loadUnaligned(fromByteOffset: position, as: UInt32.self)) == 0x0605_4B50 {
                found = position
                break
            }
            position -= 1
        }
        guard found >= 0 else { throw CheckpointError.truncated(path: path, what: "zip end-of-central-directory record not found") }
        var reader = ByteReader(buffer, start: found + 4, path: path)
        _ = try reader.u16("zip disk number")
        _ = try reader.u16("zip directory disk")
        _ = try reader.u16("zip entries on disk")
        var count = Int(try reader.u16("zip entry count"))
        var directorySize = Int(try reader.u32("zip directory size"))
        var directoryOffset = Int(try reader.u32("zip directory offset"))
        // ZIP64: a locator just before the classic record points at the ZIP64 end record.
        if found >= 20,
           UInt32(littleEndian: buffer.base.loadUnaligned(fromByteOffset: found - 20, as: UInt32.self)) == 0x0706_4B50 {
            var locator = ByteReader(buffer, start: found - 16, end: found, path: path)
            _ = try locator.u32("zip64 locator disk")
            let recordOffset = try locator.u64("zip64 end record offset")
            guard recordOffset <= UInt64(size) else { throw CheckpointError.truncated(path: path, what: "zip64 end record") }
            var record = ByteReader(buffer, start: Int(recordOffset), path: path)
            guard try record.u32("zip64 end record signature") == 0x0606_4B50 else {
                throw CheckpointError.badHeader(path: path, reason: "zip64 end record signature mismatch")
            }
            try record.skip(8 + 2 + 2 + 4 + 4 + 8, "zip64 end record")
            let count64 = try record.u64("zip64 entry count")
            let size64 = try record.u64("zip64 directory size")
            let offset64 = try record.u64("zip64 directory offset")
            guard count64 <= UInt64(size), size64 <= UInt64(size), offset64 <= UInt64(size) else {
                throw CheckpointError.truncated(path: path, what: "zip64 central directory")
            }
            count = Int(count64)
            directorySize = Int(size64)
            directoryOffset = Int(offset64)
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw CheckpointError.truncated(path: path, what: "zip central directory at \(directoryOffset) (+\(directorySize) bytes)")
        }
        return (directoryOffset, directorySize, count)
    }

    private static func readCentralEntry(_ reader: inout ByteReader) throws -> ZipEntry {
        let path = reader.path
        guard try reader.u32("zip central directory entry") == 0x0201_4B50 else {
            throw CheckpointError.badHeader(path: path, reason: "zip central directory entry signature mismatch")
        }
        try reader.skip(4, "zip central directory entry")
        let flags = try reader.u16("zip entry flags")
        let method = try reader.u16("zip entry method")
        try reader.skip(4, "zip entry time")
        let crc = try reader.u32("zip entry crc")
        var compressed = UInt64(try reader.u32("zip entry compressed size"))
        var uncompressed = UInt64(try reader.u32("zip entry size"))
        let nameLength = Int(try reader.u16("zip entry name length"))
        let extraLength = Int(try reader.u16("zip entry extra length"))
        let commentLength = Int(try reader.u16("zip entry comment length"))
        try reader.skip(8, "zip entry attributes")
        var offset = UInt64(try reader.u32("zip entry offset"))
        let name = String(decoding: try reader.bytes(nameLength, "zip entry name"), as: UTF8.self)
        var extra = ByteReader(reader.buffer, start: reader.position, end: reader.position + min(extraLength, reader.remaining), path: path)
        try reader.skip(extraLength, "zip entry extra field")
        try reader.skip(commentLength, "zip entry comment")
        while extra.remaining >= 4 {
            let tag = try extra.u16("zip extra tag")
            let length = Int(try extra.u16("zip extra length"))
            let end = extra.position + length
            if tag == 0x0001 {  // ZIP64 extended information: only the fields saturated in the record
                if uncompressed == 0xFFFF_FFFF { uncompressed = try extra.u64("zip64 size") }
                if compressed == 0xFFFF_FFFF { compressed = try extra.u64("zip64 compressed size") }
                if offset == 0xFFFF_FFFF { offset = try extra.u64("zip64 offset") }
            }
            try extra.require(end - extra.position, "zip extra field")
            extra.position = end
        }
        let limit = UInt64(reader.buffer.count)
        guard compressed <= limit, offset <= limit, uncompressed <= UInt64(Int.max / 2) else {
            throw CheckpointError.truncated(path: path, what: "zip member '\(name)' lies beyond the end of the file")
        }
        return ZipEntry(name: name, method: method, flags: flags, crc: crc, compressedSize: Int(compressed),
                        uncompressedSize: Int(uncompressed), localHeaderOffset: Int(offset))
    }

    /// The uncompressed bytes of `entry`: a zero-copy slice for stored members, an inflated copy for deflated
    /// ones. `verifyCRC` checks the CRC-32 (always done for deflated members).
    func contents(of entry: ZipEntry, verifyCRC: Bool = false) throws -> StorageBytes {
        var local = ByteReader(buffer, start: entry.localHeaderOffset, path: path)
        guard try local.u32("zip local header of '\(entry.name)'") == 0x0403_4B50 else {
            throw CheckpointError.badHeader(path: path, reason: "zip local header of '\(entry.name)' has a bad signature")
        }
        try local.skip(22, "zip local header of '\(entry.name)'")
        let nameLength = Int(try local.u16("zip local header of '\(entry.name)'"))
        let extraLength = Int(try local.u16("zip local header of '\(entry.name)'"))
        try local.skip(nameLength + extraLength, "zip local header of '\(entry.name)'")
        let data = try local.bytes(entry.compressedSize, "zip member '\(entry.name)' (\(entry.compressedSize) bytes)")
        let start = local.position - entry.compressedSize
        if entry.flags & 1 != 0 {
            throw CheckpointError.unsupported(path: path, feature: "encrypted zip member '\(entry.name)'")
        }
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw CheckpointError.badHeader(path: path, reason: "stored zip member '\(entry.name)' has differing sizes")
            }
            if verifyCRC { try checkCRC(data, entry) }
            return StorageBytes(buffer: buffer, start: start, count: entry.compressedSize)
        case 8:
            // Deflate cannot expand more than ~1032:1; refuse sizes that would only serve to exhaust memory.
            guard entry.uncompressedSize <= entry.compressedSize &* 1100 &+ 1024 else {
                throw CheckpointError.badHeader(path: path, reason: "zip member '\(entry.name)' claims an impossible size")
            }
            let inflated = try inflateRaw(data, expectedSize: entry.uncompressedSize, member: entry.name)
            try checkCRC(inflated.slice(0, inflated.count), entry)
            return StorageBytes(buffer: inflated, start: 0, count: inflated.count)
        default:
            throw CheckpointError.unsupported(path: path, feature: "zip compression method \(entry.method) of '\(entry.name)'")
        }
    }

    private func checkCRC(_ data: UnsafeRawBufferPointer, _ entry: ZipEntry) throws {
        var crc = crc32(0, nil, 0)
        var offset = 0
        while offset < data.count {
            let chunk = min(data.count - offset, 1 << 30)
            crc = crc32(crc, data.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(chunk))
            offset += chunk
        }
        guard UInt32(truncatingIfNeeded: crc) == entry.crc else {
            throw CheckpointError.badHeader(path: path, reason: "CRC mismatch in zip member '\(entry.name)'")
        }
    }

    /// Inflates raw deflate data (no zlib header) that must produce exactly `expectedSize` bytes.
    private func inflateRaw(_ source: UnsafeRawBufferPointer, expectedSize: Int, member: String) throws -> ByteBuffer {
        let path = self.path
        return try ByteBuffer.allocate(count: expectedSize) { destination in
            func fail(_ reason: String) -> CheckpointError {
                .badHeader(path: path, reason: "cannot inflate zip member '\(member)': \(reason)")
            }
            var stream = z_stream()
            guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw fail("zlib initialisation failed")
            }
            defer { inflateEnd(&stream) }
            var inputLeft = source.count
            var outputLeft = expectedSize
            var input = source.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
            var output = destination.baseAddress!.assumingMemoryBound(to: Bytef.self)
            while true {
                if stream.avail_in == 0 && inputLeft > 0, let next = input {
                    let chunk = min(inputLeft, 1 << 30)
                    stream.next_in = next
                    stream.avail_in = uInt(chunk)
                    input = next + chunk
                    inputLeft -= chunk
                }
                if stream.avail_out == 0 && outputLeft > 0 {
                    let chunk = min(outputLeft, 1 << 30)
                    stream.next_out = output
                    stream.avail_out = uInt(chunk)
                    output += chunk
                    outputLeft -= chunk
                }
                let status = inflate(&stream, Z_NO_FLUSH)
                if status == Z_STREAM_END { break }
                if status == Z_BUF_ERROR {
                    if stream.avail_in == 0 && inputLeft == 0 { throw fail("compressed data ends early") }
                    if stream.avail_out == 0 && outputLeft == 0 { throw fail("more data than the declared \(expectedSize) bytes") }
                    throw fail("no progress")
                }
                guard status == Z_OK else { throw fail("zlib error \(status)") }
            }
            guard Int(stream.total_out) == expectedSize else {
                throw fail("\(stream.total_out) bytes instead of the declared \(expectedSize)")
            }
        }
    }
}
