package target

import "errors"

// OSDataReader is the optional capability of describing the system the
// processes run on, for gdb's `info os` (GDB manual, "General Query
// Packets", qXfer:osdata:read, and "Operating System Information"):
// tables of processes, threads, open files, sockets and so on, each row
// a list of named columns. gdb asks for them with or without a process,
// so it is a capability of what starts processes (the server's
// backend), not of a Process.
type OSDataReader interface {
	// OSDataTypes lists the tables OSData reads, in the order `info os`
	// shows them.
	OSDataTypes() []OSDataType
	// OSData reads table typ as the system has it now. A type
	// OSDataTypes does not list is ErrNoOSData.
	OSData(typ string) ([]OSItem, error)
}

// OSDataType names one table: Type is the word `info os TYPE` takes
// ("processes"), Title its heading ("Processes"), Description a line
// for the list of tables.
type OSDataType struct {
	Type, Title, Description string
}

// OSItem is one row of a table, its columns in the order of the
// table's heading.
type OSItem []OSColumn

// OSColumn is one named value of a row.
type OSColumn struct {
	Name, Value string
}

// ErrNoOSData: no table of that type.
var ErrNoOSData = errors.New("no such operating-system data")
