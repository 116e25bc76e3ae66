// Immutable byte storage (a read-only file mapping or an owned allocation) and a bounds-checked cursor over it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable bytes shared by the tensors read from one file: a read-only POSIX memory map of the file, or an
/// owned allocation (inflated zip members, byte-swapped arrays, tensors built in memory).
///
/// The memory is never written after initialisation, which is what makes sharing it across threads safe.
final class ByteBuffer: @unchecked Sendable {
    /// Start of the bytes (valid for `count` bytes; a dangling-but-valid pointer when `count` is 0).
    let base: UnsafeRawPointer
    /// Number of bytes.
    let count: Int
    private let mappedLength: Int  // > 0 when `base` is a mapping to release with munmap
    private let owned: Bool        // true when `base` was allocated here

    private init(base: UnsafeRawPointer, count: Int, mappedLength: Int, owned: Bool) {
        self.base = base
        self.count = count
        self.mappedLength = mappedLength
        self.owned = owned
    }

    deinit {
        if mappedLength > 0 {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        } else if owned {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// Maps the whole file at `path` read-only; nothing is copied.
    static func map(path: String) throws -> ByteBuffer {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw CheckpointError.unreadable(path: path, reason: systemError()) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw CheckpointError.unreadable(path: path, reason: systemError()) }
        if (info.st_mode & S_IFMT) != S_IFREG {
            throw CheckpointError.unreadable(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 { return allocate(count: 0) { _ in } }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              pointer != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw CheckpointError.unreadable(path: path, reason: "mmap: " + systemError())
        }
        return ByteBuffer(base: UnsafeRawPointer(pointer), count: size, mappedLength: size, owned: false)
    }

    /// Allocates `count` bytes and lets `initialize` fill all of them before the buffer becomes immutable.
    static func allocate(count: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> ByteBuffer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        do {
            try initialize(UnsafeMutableRawBufferPointer(start: memory, count: count))
        } catch {
            memory.deallocate()
            throw error
        }
        return ByteBuffer(base: UnsafeRawPointer(memory), count: count, mappedLength: 0, owned: true)
    }

    /// Copies `bytes` into a new owned buffer.
    static func copying(_ bytes: UnsafeRawBufferPointer) -> ByteBuffer {
        allocate(count: bytes.count) { destination in
            if let source = bytes.baseAddress, bytes.count > 0 {
                destination.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
            }
        }
    }

    /// Copies an array of bytes into a new owned buffer.
    static func copying(_ bytes: [UInt8]) -> ByteBuffer {
        bytes.withUnsafeBytes { copying($0) }
    }

    /// Drops this process's resident pages of the mapped bytes `[offset, offset + length)` (widened to whole
    /// pages), as after reading a tensor once. The bytes stay readable: a later access maps them again from the
    /// file (the mapping is private and never written). No-op for owned buffers, whose memory is the only copy.
    func releasePages(_ offset: Int, _ length: Int) {
        guard mappedLength > 0, length > 0, offset >= 0, offset < mappedLength else { return }
        let page = ByteBuffer.pageSize
        let start = offset / page * page
        let end = min((offset + length + page - 1) / page * page, (mappedLength + page - 1) / page * page)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    /// The virtual memory page size.
    static let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 1)

    /// The bytes `range` as a raw buffer (the caller has checked the range).
    func slice(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + offset, count: length)
    }
}

/// The text of the current `errno`.
func systemError() -> String {
    String(cString: strerror(errno))
}

/// A cursor over `[start, end)` of a buffer that turns every out-of-range read into `CheckpointError.truncated`.
struct ByteReader {
    let buffer: ByteBuffer
    let start: Int
    let end: Int
    let path: String
    /// Absolute position in `buffer`.
    var position: Int

    init(_ buffer: ByteBuffer, start: Int = 0, end: Int? = nil, path: String) {
        self.buffer = buffer
        self.start = start
        self.end = end ?? buffer.count
        self.position = start
        self.path = path
    }

    /// Bytes left before `end`.
    var remaining: Int { end - position }
    /// Position relative to `start`.
    var relativePosition: Int { position - start }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        if count < 0 || count > end - position { throw CheckpointError.truncated(path: path, what: what()) }
    }

    /// Throws unless `count` (a 64-bit length read from the file) more bytes are available; returns it as Int.
    func requireLength(_ count: UInt64, _ what: @autoclosure () -> String) throws -> Int {
        if count > UInt64(end - position) { throw CheckpointError.truncated(path: path, what: what()) }
        return Int(count)
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 {
        try require(1, what())
        defer { position += 1 }
        return buffer.base.load(fromByteOffset: position, as: UInt8.self)
    }

    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 {
        try require(2, what())
        defer { position += 2 }
        return UInt16(littleEndian: buffer.base.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 {
        try require(4, what())
        defer { position += 4 }
        return UInt32(littleEndian: buffer.base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 {
        try require(8, what())
        defer { position += 8 }
        return UInt64(littleEndian: buffer.base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// The next `count` bytes, without copying.
    mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try require(count, what())
        defer { position += count }
        return buffer.slice(position, count)
    }

    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws {
        try require(count, what())
        position += count
    }
}
