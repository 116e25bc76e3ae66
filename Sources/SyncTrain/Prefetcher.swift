import Foundation

/// Runs `produce(0), produce(1), ...` on a background thread, at most `capacity` items ahead of the consumer, so
/// data loading overlaps compute. `next()` blocks until the next item is ready and returns them in index order;
/// an error thrown by `produce` is rethrown by the `next()` that reaches it, and ends the sequence. Dropping the
/// prefetcher (or `cancel()`) stops the thread after the item it is building.
public final class Prefetcher<Element: Sendable>: @unchecked Sendable {
    /// State shared with the loading thread (which must not keep the prefetcher itself alive).
    private final class Channel: @unchecked Sendable {
        let condition = NSCondition()
        var queue: [Result<Element, Error>] = []
        var finished = false
        var cancelled = false

        func cancel() {
            condition.lock()
            cancelled = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private let channel = Channel()
    public let count: Int
    public let capacity: Int

    /// Starts loading immediately.
    public init(count: Int, capacity: Int = 2, produce: @escaping @Sendable (Int) throws -> Element) {
        precondition(capacity >= 1, "prefetch capacity must be at least 1")
        self.count = count
        self.capacity = capacity
        let channel = channel
        let thread = Thread { Self.run(channel, count: count, capacity: capacity, produce) }
        thread.name = "syncsam.prefetch"
        thread.start()
    }

    private static func run(_ c: Channel, count: Int, capacity: Int, _ produce: (Int) throws -> Element) {
        for i in 0..<count {
            c.condition.lock()
            while c.queue.count >= capacity && !c.cancelled { c.condition.wait() }
            let stop = c.cancelled
            c.condition.unlock()
            if stop { break }
            let item: Result<Element, Error>
            do { item = .success(try produce(i)) } catch { item = .failure(error) }
            c.condition.lock()
            c.queue.append(item)
            c.condition.broadcast()
            c.condition.unlock()
            if case .failure = item { break }
        }
        c.condition.lock()
        c.finished = true
        c.condition.broadcast()
        c.condition.unlock()
    }

    /// The next item, nil after the last one (or after an error was delivered, or after `cancel()`).
    public func next() throws -> Element? {
        let c = channel
        c.condition.lock()
        defer { c.condition.unlock() }
        while c.queue.isEmpty && !c.finished && !c.cancelled { c.condition.wait() }
        if c.cancelled || c.queue.isEmpty { return nil }
        let item = c.queue.removeFirst()
        c.condition.broadcast()
        if case .failure = item { c.cancelled = true }
        return try item.get()
    }

    /// Stops the loading thread after the item it is building; further `next()` calls return nil.
    public func cancel() { channel.cancel() }

    deinit { channel.cancel() }
}

extension TrainingSampler {
    /// The batches of `epoch` loaded ahead on a background thread (batches without any usable mask are nil).
    public func prefetchedEpoch(_ epoch: Int, capacity: Int = 2) -> Prefetcher<TrainingBatch?> {
        let sampler = self, order = epochOrder(epoch)
        return Prefetcher(count: order.count, capacity: capacity) { try sampler.batch(epoch: epoch, batch: $0, order: order) }
    }
}
