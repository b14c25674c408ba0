public enum MrunKitVersion { public static let version = "0.1.0" }
