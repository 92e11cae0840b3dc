// Package deps holds the tests of the project's shape (DESIGN.md,
// "Packages"; STYLE.md sections 1 and 9):
//
//   - TestLayering: which of its packages may import which (allowed), and
//     which imports from outside the module the pure-computation packages
//     (rsp, hwbp, arbiter, swwatch/insn) may have (pure). Changing either
//     table is a design change, not a build fix: its comment says why
//     each edge exists.
//   - TestStaticBinary: the server's binary links no cgo runtime.
//
// It has no code of its own: only tests, which read the module with
// `go list`.
package deps
