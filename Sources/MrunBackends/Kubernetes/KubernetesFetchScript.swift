/// The program the fetch pod runs (standard-library Python, with the project's volume mounted):
/// `DIR SKIP LIMIT [PATH...]`. The first part (SKIP 0) lists DIR first (`mrun-list` and every
/// entry as JSON, symlinks not followed); every part then writes bytes SKIP..SKIP+LIMIT of a tar
/// of the paths (all of DIR without any), base64 in lines, then `mrun-size` (the whole tar's
/// size) and `mrun-end`. The log API carries only text, and the kubelet keeps a limited log, so a
/// large tar comes in parts, one pod each.
enum KubernetesFetchScript {
    static let source = #"""
        import base64, json, os, stat, sys, tarfile
        root, skip, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        paths = sys.argv[4:]
        out = sys.stdout
        if not os.path.isdir(root):
            out.write("mrun-missing\n")
            sys.exit(0)
        if skip == 0:
            entries = []
            for top, dirs, files in os.walk(root):
                dirs.sort()
                for name in sorted(dirs) + sorted(files):
                    full = os.path.join(top, name)
                    info = os.lstat(full)
                    mode = info.st_mode
                    kind = ("symlink" if stat.S_ISLNK(mode) else "directory" if stat.S_ISDIR(mode)
                            else "file" if stat.S_ISREG(mode) else "other")
                    entry = {"path": os.path.relpath(full, root), "kind": kind, "size": info.st_size,
                             "mtime": info.st_mtime}
                    if kind == "symlink":
                        entry["target"] = os.readlink(full)
                    entries.append(entry)
            out.write("mrun-list " + json.dumps(entries) + "\n")

        class Part:
            def __init__(self):
                self.offset = 0
                self.pending = b""

            def write(self, data):
                start = self.offset
                self.offset += len(data)
                low, high = max(start, skip), min(self.offset, skip + limit)
                if low < high:
                    self.pending += data[low - start:high - start]
                    while len(self.pending) >= 3648:
                        out.write(base64.encodebytes(self.pending[:3648]).decode())
                        self.pending = self.pending[3648:]
                return len(data)

        part = Part()
        with tarfile.open(fileobj=part, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            def plain(member):
                return member if member.isfile() or member.isdir() or member.issym() else None
            for path in paths or ["."]:
                tar.add(os.path.join(root, path), arcname=path, filter=plain)
        if part.pending:
            out.write(base64.encodebytes(part.pending).decode())
        out.write("mrun-size %d\nmrun-end\n" % part.offset)
        """#
}
