package hwbp

import (
	"reflect"
	"testing"
)

// TestImageShape pins Image to the shape of target.DebugRegisters
// (struct{ Addr [4]uint64; Control uint64 }) so that the server converts one
// into the other with a plain conversion, without hwbp importing target.
func TestImageShape(t *testing.T) {
	typ := reflect.TypeFor[Image]()
	want := []struct {
		name string
		typ  reflect.Type
	}{
		{"Addr", reflect.TypeFor[[4]uint64]()},
		{"Control", reflect.TypeFor[uint64]()},
	}
	if typ.NumField() != len(want) {
		t.Fatalf("Image has %d fields, want %d", typ.NumField(), len(want))
	}
	for i, w := range want {
		if f := typ.Field(i); f.Name != w.name || f.Type != w.typ || f.Tag != "" {
			t.Errorf("field %d is %s %v %q, want %s %v", i, f.Name, f.Type, f.Tag, w.name, w.typ)
		}
	}
}
