/// Where a tensor's storage lives. Only the CPU exists today; the enum is the seam for a CUDA backend
/// (cuBLAS + run-time compiled kernels loaded with dlopen) behind the same op interface.
public enum Device: String, Sendable, Codable {
    case cpu
}
