// Package deps holds the tests of the project's shape (DESIGN.md,
// "Packages"; STYLE.md sections 1 and 9):
//
//   - TestLayering: which of its packages may import which (allowed), and
//     which imports from outside the module the pure-computation packages
//     (rsp, hwbp, arbiter, swwatch/insn, server/internal/debugpoints) may
//     have (pure). Changing either table is a design change, not a build
//     fix: its comment says why each edge exists.
//   - TestSizes: no function over 80 lines and no type over 40 methods
//     in the packages issue 16 brought to those limits (hwbp, arbiter,
//     target, target/linux, swwatch, swwatch/insn, internal/procfs,
//     server, server/internal/debugpoints), generated files aside; the
//     exceptions are listed with why, and a listed type may not grow.
//   - TestStaticBinary: the server's binary links no cgo runtime.
//
// It has no code of its own: only tests, which read the module with
// `go list` (and go/parser for the sizes).
package deps
