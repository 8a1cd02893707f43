import Foundation

/// Outgoing messages and their two indexes (idempotency key, the provider's id).
extension StoreState {
    /// The chip's message recorded with that idempotency key.
    public func message(of chip: ChipID, idempotencyKey key: String) -> OutgoingMessage? {
        messageKeys[Self.messageKey(chip, key)].flatMap { messages[$0] }
    }

    /// The chip's message the worker knows by `providerMessageID` (the id it answered the send with).
    public func message(of chip: ChipID, providerMessageID: String) -> OutgoingMessage? {
        providerKeys[Self.messageKey(chip, providerMessageID)].flatMap { messages[$0] }
    }

    mutating func record(_ message: OutgoingMessage) throws(WhagoError) {
        guard chips[message.chip] != nil else { throw WhagoError(.notFound, "no chip \(message.chip)") }
        guard messages[message.id] == nil else { throw WhagoError(.conflict, "message \(message.id) already exists") }
        if let key = message.idempotencyKey, let existing = messageKeys[Self.messageKey(message.chip, key)] {
            throw WhagoError(.conflict, "chip \(message.chip) already has message \(existing) for idempotency key '\(key)'")
        }
        var message = message
        message.version = 1
        restore(message)
    }

    mutating func update(_ message: OutgoingMessage) throws(WhagoError) {
        guard let stored = messages[message.id] else { throw WhagoError(.notFound, "no message \(message.id)") }
        guard stored.version == message.version else {
            throw WhagoError(.conflict, "message \(message.id) changed meanwhile (version \(stored.version), this write was based on \(message.version))")
        }
        guard stored.chip == message.chip, stored.idempotencyKey == message.idempotencyKey else {
            throw WhagoError(.conflict, "a message's chip and idempotency key never change")
        }
        var message = message
        message.version = stored.version + 1
        replace(message.id, with: message)
    }

    mutating func forget(_ message: OutgoingMessage) {
        let stored = messages.removeValue(forKey: message.id) ?? message
        if let key = stored.idempotencyKey { messageKeys[Self.messageKey(stored.chip, key)] = nil }
        if let provided = stored.providerMessageID { providerKeys[Self.messageKey(stored.chip, provided)] = nil }
    }
}
