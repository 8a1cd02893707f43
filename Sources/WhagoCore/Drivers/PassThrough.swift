import Foundation

/// A tenant's request to the session software's own API for one chip (the pass-through,
/// `/api/v1/chips/{id}/waha/{path}`), as whago received it: the provider decides where it goes
/// on the worker and forces the chip's session into it.
public struct PassThroughRequest: Sendable, Hashable {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    /// The path on the worker, decoded, one element per segment (`["api", "default", "groups"]`).
    public var path: [String]
    /// The query's items in order, decoded.
    public var query: [QueryItem]
    /// The request's `Content-Type`, if any.
    public var contentType: String?
    /// The request's `Accept`, if any.
    public var accept: String?
    public var body: [UInt8]

    /// One `name=value` of a query.
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(method: String, path: [String], query: [QueryItem] = [], contentType: String? = nil, accept: String? = nil, body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.contentType = contentType
        self.accept = accept
        self.body = body
    }
}

/// What the worker answered a pass-through request: passed back to the tenant as it is (status,
/// content type, body), bounded in size.
public struct PassThroughResponse: Sendable, Hashable {
    public var status: Int
    public var contentType: String?
    public var body: [UInt8]

    public init(status: Int, contentType: String? = nil, body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}
