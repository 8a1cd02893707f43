#if canImport(Glibc)
public import Glibc
#endif
import Foundation

/// An IPv4 or IPv6 address, and what kind of network it is on: whago sends a tenant's webhooks,
/// and lets a worker fetch a tenant's media URL, only to public addresses unless the deployer
/// allows others (SSRF: a tenant must not reach the cloud's metadata service, a node's loopback or
/// the Docker API through whago or its workers).
public struct NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses `203.0.113.7`, `2001:db8::1` or `[2001:db8::1]`.
    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard written != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address an IPv6 one stands for (v4-mapped `::ffff:a.b.c.d`, v4-compatible
    /// `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002:aabb:ccdd::/48`), or nil.
    public var embeddedIPv4: NetworkAddress? {
        guard bytes.count == 16 else { return nil }
        let prefix = Array(bytes[0..<12])
        if prefix == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] || (prefix.allSatisfy { $0 == 0 } && bytes[12..<16].contains { $0 != 0 })
            || prefix == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] {
            return NetworkAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return NetworkAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    /// Where an address is.
    public enum Scope: String, Sendable {
        case `public`, loopback, `private`, linkLocal, sharedAddressSpace, multicast, unspecified, reserved
    }

    /// Its scope: anything that is not a globally routed unicast address is not `public`
    /// (RFC 6890's special-purpose registries, in short).
    public var scope: Scope {
        if let embedded = embeddedIPv4 { return embedded.scope }
        let b = bytes
        if isIPv4 {
            switch (b[0], b[1]) {
            case (0, _): return .unspecified                          // 0.0.0.0/8
            case (10, _): return .private                             // 10/8
            case (100, 64...127): return .sharedAddressSpace          // 100.64/10 (CGNAT)
            case (127, _): return .loopback                           // 127/8
            case (169, 254): return .linkLocal                        // 169.254/16 (cloud metadata)
            case (172, 16...31): return .private                      // 172.16/12
            case (192, 0) where b[2] == 0 || b[2] == 2: return .reserved   // 192.0.0/24, 192.0.2/24
            case (192, 88) where b[2] == 99: return .reserved        // 6to4 relay anycast
            case (192, 168): return .private                          // 192.168/16
            case (198, 18...19): return .reserved                     // benchmarking
            case (198, 51) where b[2] == 100: return .reserved       // documentation
            case (203, 0) where b[2] == 113: return .reserved        // documentation
            case (224...239, _): return .multicast
            case (240...255, _): return .reserved                     // 240/4 and broadcast
            default: return .public
            }
        }
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }                              // ::
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }           // ::1
        if b[0] == 0xff { return .multicast }                                              // ff00::/8
        if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return .linkLocal }                    // fe80::/10
        if b[0] == 0xfe && (b[1] & 0xc0) == 0xc0 { return .private }                      // fec0::/10 (site-local)
        if (b[0] & 0xfe) == 0xfc { return .private }                                       // fc00::/7 (ULA)
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return .reserved } // 2001:db8::/32
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0 { return .reserved }    // Teredo 2001::/32
        if b[0] == 0x01 && b[1] == 0 && b[2..<8].allSatisfy({ $0 == 0 }) { return .reserved } // discard 100::/64
        if (b[0] & 0xe0) != 0x20 { return .reserved }                                      // outside 2000::/3
        return .public
    }

    /// Whether the address is in `network`.
    public func isIn(_ network: NetworkRange) -> Bool {
        let address = (network.base.isIPv4 && !isIPv4) ? (embeddedIPv4 ?? self) : self
        guard address.bytes.count == network.base.bytes.count else { return false }
        var remaining = network.prefixLength
        for index in address.bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            guard address.bytes[index] & mask == network.base.bytes[index] & mask else { return false }
            remaining -= bits
        }
        return true
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address (`10.1.2.3`).
public struct NetworkRange: Sendable, Hashable, CustomStringConvertible, Decodable {
    public let base: NetworkAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let base = NetworkAddress(parts[0]) else { return nil }
        let width = base.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...width).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = width
        }
        self.base = base
    }

    public var description: String { "\(base)/\(prefixLength)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let range = NetworkRange(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not an address or a network (e.g. 10.0.0.0/8, fd00::/8)"))
        }
        self = range
    }
}

/// Which addresses whago may connect to (or let a worker fetch from) for a tenant: public ones,
/// and those the deployer allows.
public struct AddressPolicy: Sendable, Hashable {
    /// Every address allowed (a development machine, the tests).
    public var allowPrivateNetworks: Bool
    /// Networks allowed besides the public ones.
    public var allowed: [NetworkRange]

    public init(allowPrivateNetworks: Bool = false, allowed: [NetworkRange] = []) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowed = allowed
    }

    /// Whether `address` may be connected to.
    public func permits(_ address: NetworkAddress) -> Bool {
        allowPrivateNetworks || address.scope == .public || allowed.contains { address.isIn($0) }
    }
}

/// Host names resolved as libc resolves them, off the cooperative threads (`getaddrinfo` blocks).
public enum HostResolver {
    /// The addresses of `host` (an address is itself); empty when it does not resolve.
    public static func addresses(of host: String) async -> [NetworkAddress] {
        if let literal = NetworkAddress(host) { return [literal] }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: resolve(host))
            }
        }
    }

    private static func resolve(_ host: String) -> [NetworkAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [NetworkAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = NetworkAddress(sockaddr: info.pointee.ai_addr), !addresses.contains(address) { addresses.append(address) }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}

extension NetworkAddress {
    /// The address of a `sockaddr_in` or `sockaddr_in6`.
    public init?(sockaddr pointer: UnsafePointer<sockaddr>?) {
        guard let pointer else { return nil }
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            var address = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            self.init(bytes: withUnsafeBytes(of: &address) { Array($0) })
        case AF_INET6:
            var address = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            self.init(bytes: withUnsafeBytes(of: &address) { Array($0) })
        default:
            return nil
        }
    }
}
