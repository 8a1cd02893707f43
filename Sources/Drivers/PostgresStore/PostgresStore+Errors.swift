import NIOSSL
import PostgresNIO
import WhagoCore

extension PostgresStore {
    /// A PostgreSQL failure as a ``WhagoError``: constraint violations become `conflict` or
    /// `not_found`, anything about reaching the server `unavailable`. Never includes the URL.
    static func translate(_ error: any Error) -> WhagoError {
        switch error {
        case let error as WhagoError:
            return error
        case let error as PostgresTransactionError:
            return translate(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? WhagoError(.internal, "transaction failed"))
        case let error as PSQLError where error.code == .sslUnsupported:
            return WhagoError(.unavailable, "PostgreSQL does not offer TLS, which store.postgres.url's sslmode requires "
                + "(enable ssl on the server, or write sslmode=disable for a private network)")
        case let error as PSQLError where error.underlying is NIOSSLError:
            return WhagoError(.unavailable, "the TLS handshake with PostgreSQL failed: \(error.underlying.map { "\($0)" } ?? "")")
        case let error as PSQLError:
            guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
                return WhagoError(.unavailable, "PostgreSQL is unreachable (\(error.code)); retry later")
            }
            let message = error.serverInfo?[.message] ?? "error \(state)"
            switch state {
            case "23505", "23514", "23P01":
                return WhagoError(.conflict, message)
            case "23503":
                // Inserting a row whose parent is missing, or deleting a parent that rows still use.
                return message.hasPrefix("update or delete") ? WhagoError(.conflict, message) : WhagoError(.notFound, message)
            case "40001", "40P01", "55P03":
                return WhagoError(.unavailable, "\(message); retry")
            case let state where state.hasPrefix("08") || state.hasPrefix("57") || state.hasPrefix("53"):
                return WhagoError(.unavailable, "PostgreSQL is unavailable: \(message)")
            case "28P01", "28000":
                return WhagoError(.unauthorized, "PostgreSQL refused the credentials in store.postgres.url")
            default:
                return WhagoError(.internal, "PostgreSQL: \(message) (\(state))")
            }
        case is CancellationError:
            return WhagoError(.unavailable, "the PostgreSQL call was cancelled")
        default:
            return WhagoError(.unavailable, "PostgreSQL: \(type(of: error))")
        }
    }
}
