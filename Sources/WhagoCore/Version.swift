/// whago's version, as `whago version` prints it.
public enum WhagoVersion {
    public static let current = "0.1.0-dev"
}
