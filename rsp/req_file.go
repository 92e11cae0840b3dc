package rsp

// Host I/O: gdb reads the program's files through the server (GDB manual,
// "Host I/O Packets"). Flags, modes and errno values are GDB's File-I/O
// values ("File-I/O Remote Protocol Extension"), which the server
// translates. Every reply is "F result[,errno][;attachment]"
// (AppendFileResult, AppendFileError, AppendFileData).

func parseFD(b []byte) (int, bool) {
	v, ok := parseHex(b)
	if !ok || v > maxID {
		return 0, false
	}
	return int(v), true
}

func parseUint32(b []byte) (uint32, bool) {
	v, ok := parseHex(b)
	if !ok || v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

func expectColon(name string, args []byte) ([]byte, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	return args[1:], nil
}

// FileSetFS is "vFile:setfs:pid": later vFile packets name files as the
// process pid sees them (its mount namespace); 0 means the server's own.
// Reply F0, or F-1,errno.
type FileSetFS struct {
	Pid int64
}

// PacketName implements Request.
func (*FileSetFS) PacketName() string { return "vFile:setfs" }

// AppendPayload implements Request.
func (f *FileSetFS) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:setfs:"...)
	return AppendUint(dst, uint64(f.Pid))
}

func parseFileSetFS(_ *Parser, name string, args []byte) (Request, error) {
	args, err := expectColon(name, args)
	if err != nil {
		return nil, err
	}
	pid, ok := parsePid(args)
	if !ok {
		return nil, malformed(name, "bad process id")
	}
	return &FileSetFS{Pid: pid}, nil
}

// FileOpen is "vFile:open:pathname,flags,mode", the path hex-encoded.
// Reply F and the new file descriptor.
type FileOpen struct {
	Path  string
	Flags uint32 // GDB File-I/O open flags
	Mode  uint32 // permission bits for a created file
}

// PacketName implements Request.
func (*FileOpen) PacketName() string { return "vFile:open" }

// AppendPayload implements Request.
func (f *FileOpen) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:open:"...)
	dst = AppendHexString(dst, f.Path)
	dst = append(dst, ',')
	dst = AppendUint(dst, uint64(f.Flags))
	dst = append(dst, ',')
	return AppendUint(dst, uint64(f.Mode))
}

func parseFileOpen(p *Parser, name string, args []byte) (Request, error) {
	args, err := expectColon(name, args)
	if err != nil {
		return nil, err
	}
	fields, ok := splitFields(args, ',', 3)
	if !ok {
		return nil, malformed(name, "expected pathname,flags,mode")
	}
	f := &FileOpen{}
	if len(fields[0]) == 0 {
		return nil, malformed(name, "empty path")
	}
	if f.Path, ok = p.arena.hexString(fields[0]); !ok {
		return nil, malformed(name, "bad hex in path")
	}
	if f.Flags, ok = parseUint32(fields[1]); !ok {
		return nil, malformed(name, "bad flags")
	}
	if f.Mode, ok = parseUint32(fields[2]); !ok {
		return nil, malformed(name, "bad mode")
	}
	return f, nil
}

// FileRead is "vFile:pread:fd,count,offset". Reply F and the number of
// bytes read, then ';' and the bytes (AppendFileData).
type FileRead struct {
	FD     int
	Count  int
	Offset uint64
}

// PacketName implements Request.
func (*FileRead) PacketName() string { return "vFile:pread" }

// AppendPayload implements Request.
func (f *FileRead) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:pread:"...)
	dst = AppendUint(dst, uint64(f.FD))
	dst = append(dst, ',')
	dst = AppendUint(dst, uint64(f.Count))
	dst = append(dst, ',')
	return AppendUint(dst, f.Offset)
}

func parseFileRead(_ *Parser, name string, args []byte) (Request, error) {
	args, err := expectColon(name, args)
	if err != nil {
		return nil, err
	}
	fields, ok := splitFields(args, ',', 3)
	if !ok {
		return nil, malformed(name, "expected fd,count,offset")
	}
	f := &FileRead{}
	var count uint64
	if f.FD, ok = parseFD(fields[0]); !ok {
		return nil, malformed(name, "bad file descriptor")
	}
	if count, ok = parseHex(fields[1]); !ok || count > maxLength {
		return nil, malformed(name, "bad count")
	}
	f.Count = int(count)
	if f.Offset, ok = parseHex(fields[2]); !ok {
		return nil, malformed(name, "bad offset")
	}
	return f, nil
}

// FileWrite is "vFile:pwrite:fd,offset,data", data binary and escaped on
// the wire. Reply F and the number of bytes written.
type FileWrite struct {
	FD     int
	Offset uint64
	Data   []byte
}

// PacketName implements Request.
func (*FileWrite) PacketName() string { return "vFile:pwrite" }

// AppendPayload implements Request.
func (f *FileWrite) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:pwrite:"...)
	dst = AppendUint(dst, uint64(f.FD))
	dst = append(dst, ',')
	dst = AppendUint(dst, f.Offset)
	dst = append(dst, ',')
	return AppendEscaped(dst, f.Data)
}

func parseFileWrite(p *Parser, name string, args []byte) (Request, error) {
	args, err := expectColon(name, args)
	if err != nil {
		return nil, err
	}
	fd, rest, found1 := cutByte(args, ',')
	off, data, found2 := cutByte(rest, ',')
	if !found1 || !found2 {
		return nil, malformed(name, "expected fd,offset,data")
	}
	f := &FileWrite{}
	var ok bool
	if f.FD, ok = parseFD(fd); !ok {
		return nil, malformed(name, "bad file descriptor")
	}
	if f.Offset, ok = parseHex(off); !ok {
		return nil, malformed(name, "bad offset")
	}
	f.Data = p.arena.copy(data)
	return f, nil
}

// FileClose is "vFile:close:fd". Reply F0.
type FileClose struct {
	FD int
}

// PacketName implements Request.
func (*FileClose) PacketName() string { return "vFile:close" }

// AppendPayload implements Request.
func (f *FileClose) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:close:"...)
	return AppendUint(dst, uint64(f.FD))
}

func parseFileClose(_ *Parser, name string, args []byte) (Request, error) {
	fd, err := parseFDArg(name, args)
	if err != nil {
		return nil, err
	}
	return &FileClose{FD: fd}, nil
}

// parseFDArg parses ":fd", the whole argument of vFile:close and
// vFile:fstat.
func parseFDArg(name string, args []byte) (int, error) {
	args, err := expectColon(name, args)
	if err != nil {
		return 0, err
	}
	fd, ok := parseFD(args)
	if !ok {
		return 0, malformed(name, "bad file descriptor")
	}
	return fd, nil
}

// FileStat is "vFile:fstat:fd". Reply F and the size of GDB's struct stat,
// then ';' and the struct (AppendFileData).
type FileStat struct {
	FD int
}

// PacketName implements Request.
func (*FileStat) PacketName() string { return "vFile:fstat" }

// AppendPayload implements Request.
func (f *FileStat) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:fstat:"...)
	return AppendUint(dst, uint64(f.FD))
}

func parseFileStat(_ *Parser, name string, args []byte) (Request, error) {
	fd, err := parseFDArg(name, args)
	if err != nil {
		return nil, err
	}
	return &FileStat{FD: fd}, nil
}

// FileReadlink is "vFile:readlink:filename", hex-encoded. Reply F and the
// target's length, then ';' and the target (AppendFileData).
type FileReadlink struct {
	Path string
}

// PacketName implements Request.
func (*FileReadlink) PacketName() string { return "vFile:readlink" }

// AppendPayload implements Request.
func (f *FileReadlink) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:readlink:"...)
	return AppendHexString(dst, f.Path)
}

func parseFileReadlink(p *Parser, name string, args []byte) (Request, error) {
	path, err := parsePathArg(p, name, args)
	if err != nil {
		return nil, err
	}
	return &FileReadlink{Path: path}, nil
}

// FileUnlink is "vFile:unlink:filename", hex-encoded. Reply F0.
type FileUnlink struct {
	Path string
}

// PacketName implements Request.
func (*FileUnlink) PacketName() string { return "vFile:unlink" }

// AppendPayload implements Request.
func (f *FileUnlink) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vFile:unlink:"...)
	return AppendHexString(dst, f.Path)
}

func parseFileUnlink(p *Parser, name string, args []byte) (Request, error) {
	path, err := parsePathArg(p, name, args)
	if err != nil {
		return nil, err
	}
	return &FileUnlink{Path: path}, nil
}

func parsePathArg(p *Parser, name string, args []byte) (string, error) {
	args, err := expectColon(name, args)
	if err != nil {
		return "", err
	}
	if len(args) == 0 {
		return "", malformed(name, "empty path")
	}
	path, ok := p.arena.hexString(args)
	if !ok {
		return "", malformed(name, "bad hex in path")
	}
	return path, nil
}
