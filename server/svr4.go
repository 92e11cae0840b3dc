package server

import (
	"bytes"
	"fmt"

	"gdbserverx/target"
)

// librariesSVR4 is the document of qXfer:libraries-svr4:read (GDB
// manual, "Library List Format for SVR4 Targets") for the dynamic
// linker's list as the target read it (target.LibraryLister): the first
// link_map, the program's, is main-lm; the others are libraries.
func librariesSVR4(list target.LibraryList) []byte {
	var b bytes.Buffer
	if list.RDebug == 0 {
		b.WriteString(`<library-list-svr4 version="1.0"/>`)
		return b.Bytes()
	}
	b.WriteString(`<library-list-svr4 version="1.0"`)
	if list.MainLM != 0 {
		fmt.Fprintf(&b, ` main-lm="0x%x"`, list.MainLM)
	}
	b.WriteString(">")
	for _, lib := range list.Libraries {
		// Entries without a name (the vDSO on some systems) are
		// skipped, as gdbserver does.
		if lib.Name == "" {
			continue
		}
		// lmid names the link-map namespace by its r_debug (gdb 13
		// requires it); the default namespace's is the one DT_DEBUG
		// points to.
		fmt.Fprintf(&b, `<library name="%s" lm="0x%x" l_addr="0x%x" l_ld="0x%x" lmid="0x%x"/>`, esc(lib.Name), lib.LM, lib.Addr, lib.LD, list.RDebug)
	}
	b.WriteString("</library-list-svr4>")
	return b.Bytes()
}
