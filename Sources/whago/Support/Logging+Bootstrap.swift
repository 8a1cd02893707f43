import Logging

enum LogSetup {
    /// Sends logs to standard error at `level` (falling back to info for an unknown name) and returns
    /// whago's logger. Call once per process.
    static func bootstrap(level: String) -> Logger {
        let parsed = Logger.Level(rawValue: level.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        var logger = Logger(label: "whago")
        logger.logLevel = parsed
        if Logger.Level(rawValue: level.lowercased()) == nil {
            logger.warning("unknown log level '\(level)'; using info")
        }
        return logger
    }
}
