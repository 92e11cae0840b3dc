package server

import (
	"bytes"
	"errors"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// gdb's `info os` (GDB manual, "Operating System Information"): the
// tables of qXfer:osdata:read come from the backend's
// target.OSDataReader, with or without a process, as gdbserver serves
// them in --multi before any run. The server only writes them in the
// osdata format ("osdata.dtd"): an <osdata> of <item>s of named
// <column>s; the empty annex asks for the list of tables ("types").

// osdataDocs is a client's snapshot of the table it reads: gdb reads a
// document in pieces, and the pieces must come from one reading of the
// system. A read at offset 0 takes a new snapshot, as gdbserver's does;
// only the last is kept.
type osdataDocs struct {
	annex string
	doc   []byte
}

// serve answers qXfer:osdata:read.
func (o *osdataDocs) serve(c *client, r *rsp.ReadXfer) {
	od, ok := c.s.cfg.Backend.(target.OSDataReader)
	if !ok || !c.s.offer.osdata {
		c.replyEmpty()
		return
	}
	if o.doc == nil || r.Offset == 0 || o.annex != r.Annex {
		doc, err := osdataDoc(od, r.Annex)
		switch {
		case errors.Is(err, target.ErrNoOSData):
			// gdbserver's answer: no data, which gdb reports as
			// "Empty data returned by target.  Wrong osdata type?"
			doc = nil
		case err != nil:
			c.s.log.debugf("info os %s: %v", r.Annex, err)
			c.replyError(rsp.CodeIO)
			return
		}
		o.annex, o.doc = r.Annex, doc
	}
	piece, last := rsp.XferPiece(o.doc, r.Offset, r.Length)
	if n := rsp.EscapedFit(piece, PacketSize-1); n < len(piece) {
		piece, last = piece[:n], false
	}
	c.reply(rsp.AppendXferReply(c.scratch(), piece, last))
	if last {
		o.doc = nil // read to its end: nothing is kept
	}
}

// osdataDoc writes one table, or the list of tables for the empty type.
func osdataDoc(od target.OSDataReader, typ string) ([]byte, error) {
	var items []target.OSItem
	if typ == "" || typ == "types" {
		typ = "types"
		for _, t := range od.OSDataTypes() {
			items = append(items, target.OSItem{{Name: "Type", Value: t.Type}, {Name: "Description", Value: t.Description}, {Name: "Title", Value: t.Title}})
		}
	} else {
		var err error
		if items, err = od.OSData(typ); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	b.WriteString(`<osdata type="` + esc(typ) + "\">\n")
	for _, it := range items {
		b.WriteString("<item>")
		for _, col := range it {
			b.WriteString(`<column name="` + esc(col.Name) + `">` + esc(col.Value) + "</column>")
		}
		b.WriteString("</item>")
	}
	b.WriteString("</osdata>\n")
	return b.Bytes(), nil
}
