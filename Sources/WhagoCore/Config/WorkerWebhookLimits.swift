import Foundation

/// `limits.workerWebhooks:` — what one worker's webhooks may cost whago. A worker is untrusted
/// (third-party code talking to WhatsApp): one that floods is answered 429 (WAHA retries later)
/// and costs the other workers and tenants nothing but its own refusals.
///
/// ```yaml
/// limits:
///   workerWebhooks:
///     requestsPerSecond: 50       # each worker's webhooks a second (token bucket; 4× as burst) …
///     bytesPerSecond: 2MiB        # … and bytes a second (4× as burst)
///     queueBytes: 64MiB           # verified webhooks waiting to be applied, all workers (503 beyond)
/// ```
public struct WorkerWebhookLimits: Decodable, Sendable, Hashable {
    public var requestsPerSecond: Int
    public var bytesPerSecond: ByteSize
    public var queueBytes: ByteSize

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requestsPerSecond, bytesPerSecond, queueBytes
    }

    public init(requestsPerSecond: Int = 50, bytesPerSecond: ByteSize = .mebibytes(2), queueBytes: ByteSize = .mebibytes(64)) {
        self.requestsPerSecond = requestsPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.queueBytes = queueBytes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = WorkerWebhookLimits()
        self.init(requestsPerSecond: try container.decodeIfPresent(PositiveInt.self, forKey: .requestsPerSecond)?.value ?? defaults.requestsPerSecond,
                  bytesPerSecond: try container.decodeIfPresent(ByteSize.self, forKey: .bytesPerSecond) ?? defaults.bytesPerSecond,
                  queueBytes: try container.decodeIfPresent(ByteSize.self, forKey: .queueBytes) ?? defaults.queueBytes)
        // A worker's largest webhook (1 MiB) must fit its burst and the queue.
        guard bytesPerSecond.bytes >= 1 << 18 else {
            throw DecodingError.dataCorruptedError(forKey: .bytesPerSecond, in: container, debugDescription: "bytesPerSecond must be at least 256KiB")
        }
        guard queueBytes.bytes >= 1 << 20 else {
            throw DecodingError.dataCorruptedError(forKey: .queueBytes, in: container, debugDescription: "queueBytes must be at least 1MiB")
        }
    }
}
