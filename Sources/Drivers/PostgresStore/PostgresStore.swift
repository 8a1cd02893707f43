public import WhagoCore

/// The `postgres` store: whago's state in PostgreSQL, for production and for several daemons.
///
/// Registered now so that configurations selecting it are validated; starting whago with it fails
/// clearly until the driver is built.
public enum PostgresStore {
    /// The registration entry.
    public static let driver = Driver<any Store>(
        kind: .store, name: "postgres", aliases: ["postgresql"],
        summary: "whago's state in PostgreSQL (production; several daemons)",
        sampleConfig: PostgresConfiguration.sample,
        configuration: PostgresConfiguration.self
    ) { _, _ in
        throw WhagoError.driverNotImplemented("postgres")
    }
}

/// `store.postgres`.
struct PostgresConfiguration: DriverConfiguration {
    /// `postgres://user:password@host:5432/db`; it holds a password, so it is a secret.
    var url: Secret
    var poolSize: Int
    var connectTimeout: TimeSpan

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, poolSize, connectTimeout
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(Secret.self, forKey: .url)
        poolSize = try container.decodeIfPresent(PositiveInt.self, forKey: .poolSize)?.value ?? 10
        connectTimeout = try container.decodeIfPresent(TimeSpan.self, forKey: .connectTimeout) ?? .seconds(10)
    }

    static let sample = """
        postgres:
          url: ${WHAGO_DATABASE_URL}     # postgres://user:password@host:5432/whago (or file:/run/secrets/db-url)
          poolSize: 10                   # connections
          connectTimeout: 10s
        """
}
