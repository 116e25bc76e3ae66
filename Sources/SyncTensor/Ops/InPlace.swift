/// In-place elementwise ops for inference: they overwrite a fresh intermediate instead of allocating (and
/// page-faulting in) another tensor of the same size. No tape is recorded, so they are only valid without one.
extension Tensor {
    /// Exact GELU (as `gelu()`) over this tensor's own values; returns `self`.
    @discardableResult
    public func geluInPlace() -> Tensor {
        precondition(!(GradMode.isEnabled && (requiresGrad || node != nil)), "geluInPlace on a tensor on the tape")
        UnaryKernel.forward(.gelu, data, data, count)
        return self
    }
}
