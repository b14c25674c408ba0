/// A file that cannot be read or written, said in one line naming it.
public struct FileError: UserFacingError, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
