// Package deps holds the test of the project's layering: which of its
// packages may import which (DESIGN.md, "Packages"; STYLE.md section 1).
package deps
