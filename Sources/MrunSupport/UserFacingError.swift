/// An error the CLI prints as one line (its `description`), without a stack trace, and exits non-zero.
///
/// Each area of the library has its own error enum conforming to this protocol; a message names the
/// file, line, flag or key at fault and says how to fix it.
public protocol UserFacingError: Error, CustomStringConvertible {}
