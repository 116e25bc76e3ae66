import Foundation

/// Seeded, reproducible random numbers (xoshiro256**, seeded through SplitMix64), with normal samples by
/// Box-Muller. Used for initialisation, prompt simulation and data order; the state can be saved and restored.
public struct SeededRandom: RandomNumberGenerator, Sendable, Codable, Equatable {
    public var state: [UInt64]

    public init(seed: UInt64) {
        var s = seed
        state = (0..<4).map { _ in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]; state[3] ^= state[1]; state[1] ^= state[2]; state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal.
    public mutating func normal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// Uniform integer in `range`.
    public mutating func int(in range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// The xoshiro256** state unpacked into registers for bulk generation (the array is read and written once).
private struct Xoshiro256 {
    var s0, s1, s2, s3: UInt64

    init(_ state: [UInt64]) { (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3]) }
    var state: [UInt64] { [s0, s1, s2, s3] }

    @inline(__always)
    mutating func next() -> UInt64 {
        let x = s1 &* 5
        let result = ((x << 7) | (x >> 57)) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }
}

extension SeededRandom {
    /// Writes `count` samples of U[low, high) to `out`: exactly the values (and generator state afterwards) of
    /// `count` calls of `low + (high - low) * uniform()`, without the per-call state array traffic.
    public mutating func fillUniform(_ out: UnsafeMutablePointer<Float>, count: Int, low: Float = 0, high: Float = 1) {
        var g = Xoshiro256(state)
        let width = high - low
        for i in 0..<count { out[i] = low + width * (Float(g.next() >> 40) * (1.0 / 16_777_216.0)) }
        state = g.state
    }

    /// Writes `count` samples of N(mean, std^2) to `out`: exactly the values of `count` calls of
    /// `mean + std * normal()`.
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int, mean: Float = 0, std: Float = 1) {
        var g = Xoshiro256(state)
        for i in 0..<count {
            var u1 = Double(g.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            if u1 < 1e-300 { u1 = 1e-300 }
            let u2 = Double(g.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            out[i] = mean + std * Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
        }
        state = g.state
    }

    /// Advances the generator as `count` calls of `next()` would (uniform draws use one call, normal draws two).
    public mutating func skip(_ count: Int) {
        var g = Xoshiro256(state)
        for _ in 0..<count { _ = g.next() }
        state = g.state
    }
}

extension Tensor {
    /// Samples from N(mean, std^2).
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout SeededRandom) -> Tensor {
        let t = Tensor(zeros: shape, zeroed: false)
        rng.fillNormal(t.data, count: t.count, mean: mean, std: std)
        return t
    }

    /// Samples from U[low, high).
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout SeededRandom) -> Tensor {
        let t = Tensor(zeros: shape, zeroed: false)
        rng.fillUniform(t.data, count: t.count, low: low, high: high)
        return t
    }
}
