package x86cpu

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	gdbtest.Cleanup()
	os.Exit(code)
}

// TestHostMatchesCompiledCPUID compares Host with what a C program built
// with gcc's <cpuid.h> reads from the same CPU: vendor, family, model,
// the feature words, XCR0 and every XSAVE component's layout.
func TestHostMatchesCompiledCPUID(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86-64 only")
	}
	prog := gdbtest.CompileC(t, filepath.Join("testdata", "cpuid.c"))
	out, err := exec.Command(prog).Output()
	if err != nil {
		t.Fatalf("%s: %v", prog, err)
	}
	c := Host()
	t.Logf("host: %v", c)
	sc := bufio.NewScanner(bytes.NewReader(out))
	comps := 0
	var leaf1c, leaf1d, leaf7b, leaf7c, leaf7d, leafd1 uint32
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch f[0] {
		case "vendor":
			if f[1] != c.VendorID {
				t.Errorf("vendor %q, C program %q", c.VendorID, f[1])
			}
		case "family":
			var fam, model int
			fmt.Sscanf(sc.Text(), "family %d model %d", &fam, &model)
			if fam != c.Family || model != c.Model {
				t.Errorf("family %#x model %#x, C program %#x %#x", c.Family, c.Model, fam, model)
			}
		case "leaf1":
			fmt.Sscanf(sc.Text(), "leaf1 %d %d", &leaf1c, &leaf1d)
		case "leaf7":
			fmt.Sscanf(sc.Text(), "leaf7 %d %d %d", &leaf7b, &leaf7c, &leaf7d)
		case "leafd1":
			fmt.Sscanf(sc.Text(), "leafd1 %d", &leafd1)
		case "xcr0":
			var x uint64
			fmt.Sscanf(sc.Text(), "xcr0 %d", &x)
			if x != c.XCR0 {
				t.Errorf("xcr0 %#x, C program %#x", c.XCR0, x)
			}
		case "component":
			var i int
			var size, off, ecx uint32
			fmt.Sscanf(sc.Text(), "component %d %d %d %d", &i, &size, &off, &ecx)
			want := Component{Size: size, Offset: off, Supervisor: ecx&1 != 0, Align64: ecx&2 != 0}
			if got := c.Components[i]; got != want {
				t.Errorf("component %d: %+v, C program %+v", i, got, want)
			}
			comps++
		}
	}
	bit := func(r uint32, n uint) bool { return r>>n&1 != 0 }
	for f, want := range map[Feature]bool{
		FXSR: bit(leaf1d, 24), XSAVE: bit(leaf1c, 26), OSXSAVE: bit(leaf1c, 27), AVX: bit(leaf1c, 28),
		AVX2: bit(leaf7b, 5), AVX512F: bit(leaf7b, 16), AVX512BW: bit(leaf7b, 30), AVX512VL: bit(leaf7b, 31),
		PKU: bit(leaf7c, 3), OSPKE: bit(leaf7c, 4), MOVDIRI: bit(leaf7c, 27), MOVDIR64B: bit(leaf7c, 28),
		ENQCMD: bit(leaf7c, 29), AMXTile: bit(leaf7d, 24), XSAVEOPT: bit(leafd1, 0), XSAVEC: bit(leafd1, 1),
	} {
		if c.Has(f) != want {
			t.Errorf("%v: %v, C program %v", f, c.Has(f), want)
		}
	}
	t.Logf("%d XSAVE components checked:\n%s", comps, bytes.TrimSpace(out))
	// The kernel's view, for the log: /proc/cpuinfo names the vendor.
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "vendor_id"); ok {
				if v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":")); v != c.VendorID {
					t.Errorf("/proc/cpuinfo vendor_id %q, CPUID %q", v, c.VendorID)
				}
				break
			}
		}
	}
}

// cpuidTable answers CPUID from a map of (leaf, subleaf) to registers.
type cpuidTable map[[2]uint32][4]uint32

func (m cpuidTable) f(leaf, sub uint32) (a, b, c, d uint32) {
	r := m[[2]uint32{leaf, sub}]
	return r[0], r[1], r[2], r[3]
}

func vendorRegs(max uint32, id string) [4]uint32 {
	w := func(i int) uint32 { return binary.LittleEndian.Uint32([]byte(id)[i:]) }
	return [4]uint32{max, w(0), w(8), w(4)}
}

func TestFromCPUID(t *testing.T) {
	// A Sapphire Rapids-like Intel with AMX: TILEDATA is 64-byte aligned
	// in the compacted format.
	intel := cpuidTable{
		{0, 0}:    vendorRegs(0x20, "GenuineIntel"),
		{1, 0}:    {0x000806f8, 0, 1<<26 | 1<<27 | 1<<28, 1<<24 | 1<<26},
		{7, 0}:    {0, 1<<5 | 1<<16 | 1<<30 | 1<<31, 1<<3 | 1<<4 | 1<<27 | 1<<28, 1 << 24},
		{0xd, 0}:  {0x602e7, 0, 0, 0},
		{0xd, 1}:  {0xf, 0, 0, 0},
		{0xd, 2}:  {256, 576, 0, 0},
		{0xd, 5}:  {64, 1088, 0, 0},
		{0xd, 6}:  {512, 1152, 0, 0},
		{0xd, 7}:  {1024, 1664, 0, 0},
		{0xd, 9}:  {8, 2688, 0, 0},
		{0xd, 17}: {64, 2752, 0, 0},
		{0xd, 18}: {8192, 2816, 6, 0},
	}
	c := FromCPUID(intel.f, 0x602e7)
	if c.Vendor != Intel || c.Family != 6 || c.Model != 0x8f {
		t.Errorf("vendor %v family %#x model %#x, want Intel 6 0x8f", c.Vendor, c.Family, c.Model)
	}
	for _, f := range []Feature{XSAVE, OSXSAVE, AVX, AVX2, AVX512F, AVX512BW, AVX512VL, PKU, OSPKE, MOVDIRI, MOVDIR64B, AMXTile, XSAVEOPT, XSAVEC, XSAVES} {
		if !c.Has(f) {
			t.Errorf("no %v", f)
		}
	}
	for _, f := range []Feature{ENQCMD, CLZERO, Prefetch3DNow} {
		if c.Has(f) {
			t.Errorf("has %v", f)
		}
	}
	if got := c.StandardEnd(0xe7); got != 2688 {
		t.Errorf("StandardEnd(0xe7) = %d, want 2688", got)
	}
	if got := c.StandardEnd(0x602e7); got != 2816+8192 {
		t.Errorf("StandardEnd(all) = %d, want %d", got, 2816+8192)
	}
	// Compacted: 576 avx(256) 832 k(64) 896 zmm_hi256(512) 1408
	// hi16_zmm(1024) 2432 pkru(8) 2440 tilecfg(64) 2504 -> 2560
	// tiledata (aligned).
	for _, c2 := range []struct {
		xcomp uint64
		i     int
		want  uint32
	}{
		{0x602e7, 2, 576}, {0x602e7, 5, 832}, {0x602e7, 9, 2432}, {0x602e7, 17, 2440}, {0x602e7, 18, 2560},
		{0x602e7, 64, 2560 + 8192}, {0x40003, 18, 576}, {0x60007, 17, 832}, {0x60007, 18, 896},
	} {
		if got := c.CompactedOffset(c2.xcomp, c2.i); got != c2.want {
			t.Errorf("CompactedOffset(%#x, %d) = %d, want %d", c2.xcomp, c2.i, got, c2.want)
		}
	}

	amd := cpuidTable{
		{0, 0}:          vendorRegs(0x10, "AuthenticAMD"),
		{1, 0}:          {0x00a10f11, 0, 1<<26 | 1<<27 | 1<<28, 1<<24 | 1<<26},
		{7, 0}:          {0, 1<<5 | 1<<16, 0, 0},
		{0xd, 0}:        {0xe7, 0, 0, 0},
		{0xd, 2}:        {256, 576, 0, 0},
		{0xd, 5}:        {64, 832, 0, 0},
		{0xd, 6}:        {512, 896, 0, 0},
		{0xd, 7}:        {1024, 1408, 0, 0},
		{0x80000000, 0}: {0x80000008, 0, 0, 0},
		{0x80000001, 0}: {0, 0, 1 << 8, 0},
		{0x80000008, 0}: {0, 1, 0, 0},
	}
	c = FromCPUID(amd.f, 0xe7)
	if c.Vendor != AMD || c.Family != 0x19 || c.Model != 0x11 || !c.Has(CLZERO) || !c.Has(Prefetch3DNow) || c.Has(MOVDIRI) {
		t.Errorf("%v", c)
	}
	if c.Components[5].Offset != 832 || c.StandardEnd(MaskAVX512|7) != 2432 {
		t.Errorf("AMD layout: opmask at %d, end %d", c.Components[5].Offset, c.StandardEnd(MaskAVX512|7))
	}
	if !c.Usable(AVX512F) || !c.Usable(AVX2) {
		t.Errorf("AVX-512 and AVX2 not usable with xcr0 0xe7")
	}
	if c2 := FromCPUID(amd.f, 0x7); c2.Usable(AVX512F) || !c2.Usable(AVX2) || !c2.Has(AVX512F) {
		t.Errorf("xcr0 7: AVX-512 usable %v, AVX2 usable %v", c2.Usable(AVX512F), c2.Usable(AVX2))
	}
	if v := FromCPUID(cpuidTable{{0, 0}: vendorRegs(1, "HygonGenuine")}.f, 0).Vendor; v != AMD {
		t.Errorf("Hygon: %v, want AMD", v)
	}
	if v := FromCPUID(cpuidTable{{0, 0}: vendorRegs(1, "CentaurHauls")}.f, 0).Vendor; v != VendorOther {
		t.Errorf("Centaur: %v, want other", v)
	}
}
