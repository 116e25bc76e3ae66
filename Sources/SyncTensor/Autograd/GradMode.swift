/// Whether ops record the autograd tape. Inference runs inside `withNoGrad`, so it builds no tape and keeps
/// no intermediates alive. Task-local, so concurrent tasks (a server's requests) do not interfere.
public enum GradMode {
    @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` without recording the autograd tape.
@discardableResult
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false) { try body() }
}
